/*-------------------------------------------------------------------------
 *
 * failure.h
 *		  The failure policy of a request: retried?, read from Jira instead?,
 *		  and the ERROR (or check_connection row) that reports it.
 *
 * http.c asks whether to send again, scan.c whether Jira may serve a
 * failed Tempo scan, the pager and twins.c raise the ERROR, check.c fills its
 * row: all from src/failure.c.
 * Part of the transport layer (transport.h, which it includes).
 *
 * Copyright (c) 2026, tempo_fdw developers
 *
 * IDENTIFICATION
 *		  src/failure.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef TEMPO_FAILURE_H
#define TEMPO_FAILURE_H

#include "shared.h"
#include "transport.h"

extern bool tempo_failure_retried(const TempoHttpResponse *resp);
extern TempoErrorClass tempo_failure_take_class(void);
extern bool tempo_failure_falls_back(const TempoHttpResponse *resp);
extern char *tempo_failure_cause(const TempoHttpResponse *resp);
TEMPO_NORETURN extern void tempo_failure_report(const TempoFdwOptions *opts,
												const TempoHttpRequest *req,
												const TempoHttpResponse *resp);
extern void tempo_failure_describe(const TempoHttpResponse *resp, bool jira,
								   const char *needs, const char **problem,
								   const char **hint);

#endif							/* TEMPO_FAILURE_H */
