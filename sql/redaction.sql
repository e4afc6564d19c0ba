-- Server text in messages: credentials are blotted out before the text is
-- cut (a token across the cut leaks no prefix), in 2xx bodies too; every
-- piece is at most 1 KB; control characters are escaped, so a value or a
-- paging link with CR/LF cannot forge a line of the server log.
\ir sql/include/setup.sql
\set t :sim '/@tag=rd/4'
CREATE SERVER rd_srv FOREIGN DATA WRAPPER tempo_fdw
  OPTIONS (tempo_url :'t', max_retries '0', max_requests_per_second '0', fallback 'off',
           max_concurrency '1', page_size '100');
CREATE USER MAPPING FOR PUBLIC SERVER rd_srv
  OPTIONS (token 'tempo-test-token', jira_email 'bot@example.com', jira_token 'jira-test-token');
CREATE FOREIGN TABLE rd_w (worklog_id bigint, start_date date) SERVER rd_srv OPTIONS (resource 'worklogs');
-- what an error says, in short
CREATE FUNCTION rd_err(url text, q text)
RETURNS TABLE (state text, msg_bytes int, detail_bytes int, detail_end text, secret_or_prefix boolean,
               raw_control_chars boolean) LANGUAGE plpgsql AS $$
DECLARE
  msg text; det text; ctx text;
BEGIN
  EXECUTE format('ALTER SERVER rd_srv OPTIONS (SET tempo_url %L)', url);
  BEGIN
    EXECUTE q;
    state := 'no error';
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
                            ctx = PG_EXCEPTION_CONTEXT;
  END;
  msg_bytes := octet_length(msg);
  detail_bytes := octet_length(det);
  detail_end := right(det, 30);
  secret_or_prefix := concat(msg, det, ctx) ~ '(tempo-|jira-test|Ym90QGV4YW1wbGUuY29t)';
  raw_control_chars := concat(msg, det) ~ '[\r\n\x01-\x08]';
  RETURN NEXT;
END $$;

-- an error body echoing the token across the old 512-byte cut, and across the 1 KB cut
SELECT * FROM rd_err(:'sim' || '/@tag=rd,fault=echoauth,pad=460/4', 'SELECT count(*) FROM rd_w');
SELECT * FROM rd_err(:'sim' || '/@tag=rd,fault=echoauth,pad=970/4', 'SELECT count(*) FROM rd_w');
-- a 2xx body echoing the token in a value
SELECT * FROM rd_err(:'sim' || '/@tag=rd,ds=fixture:redact_token/4', 'SELECT start_date FROM rd_w');
-- a value of 3,000 bytes: 1 KB of it
SELECT * FROM rd_err(:'sim' || '/@tag=rd,ds=fixture:redact_long/4', 'SELECT start_date FROM rd_w');
-- a value with CR/LF: escaped
SELECT * FROM rd_err(:'sim' || '/@tag=rd,ds=fixture:redact_ctl/4', 'SELECT start_date FROM rd_w');
\set t :sim '/@tag=rd,ds=fixture:redact_ctl/4'
ALTER SERVER rd_srv OPTIONS (SET tempo_url :'t');
SELECT start_date FROM rd_w;  -- the message as it is shown
-- a paging link with CR/LF: the request fails, its path is escaped in the message
-- (libcurl's own words in the detail differ between versions: not shown)
SELECT state, msg_bytes, secret_or_prefix, raw_control_chars
  FROM rd_err(:'sim' || '/@tag=rd,ds=gen,n=300,fault=crlfnext,fault_at=0/4', 'SELECT count(*) FROM rd_w');
\set t :sim '/@tag=rd,ds=gen,n=300,fault=crlfnext,fault_at=0/4'
ALTER SERVER rd_srv OPTIONS (SET tempo_url :'t');
\set VERBOSITY terse
SELECT count(*) FROM rd_w;
\set VERBOSITY default

DROP SERVER rd_srv CASCADE;
