"""tempo_sim.texts: descriptions and comments (text for Tempo, ADF for Jira v3, wiki for v2)."""



# A "doc" is a list of blocks: ("p", [inline...]) | ("ul", [text...]) | ("code", lang, text)
# with inline nodes ("text", s) | ("br",) | ("mention", accountId, displayName).

PHRASES = (
    "Code review of the payment module", "Daily stand-up", "Sprint planning",
    "Fixing flaky integration tests", "Customer call about invoice export",
    "Refactoring the authentication service", "Writing release notes",
    "Investigating production incident", "Pairing on the search feature",
    "Updating dependencies", "Backlog grooming", "Onboarding a new colleague",
    "Performance tuning of report queries", "Documentation for the REST API",
    "Abstimmung mit dem Kunden über Änderungen", "Réunion d'équipe hebdomadaire",
    "日本チームとの打ち合わせ", "Fixed \"null\" handling in the CSV importer",
    "Cleanup of C:\\temp\\exports", "Support ticket triage", "Security review",
    "Load test of the billing API", "Design workshop", "Retro & action items",
    "Migrating CI pipelines", "Database backup verification", "UX feedback session",
    "Tax report – Q2 reconciliation", "Deployment to staging", "Estimating epics 🚀")
JIRA_ONLY_TEXTS = ("Logged directly in Jira", "Quick fix, logged from the issue view",
                   "Hotfix verification", "Meeting notes in Confluence")


def text_doc(text):
    """Plain description -> doc (newlines become hard breaks); None for empty text."""
    inline = []
    for k, line in enumerate(text.split("\n")):
        if k:
            inline.append(("br",))
        if line:
            inline.append(("text", line))
    return [("p", inline)] if inline else None


def doc_plain(doc):
    out = []
    for block in doc:
        if block[0] == "p":
            out.append("".join(n[1] if n[0] == "text" else "\n" if n[0] == "br" else "@" + n[2]
                               for n in block[1]))
        elif block[0] == "ul":
            out.append("\n".join("- " + t for t in block[1]))
        else:
            out.append(block[2])
    return "\n".join(out)


def doc_adf(doc):
    def inline(n):
        if n[0] == "text":
            return {"type": "text", "text": n[1]}
        if n[0] == "br":
            return {"type": "hardBreak"}
        return {"type": "mention", "attrs": {"id": n[1], "text": "@" + n[2], "accessLevel": ""}}
    content = []
    for block in doc:
        if block[0] == "p":
            content.append({"type": "paragraph", "content": [inline(n) for n in block[1]]})
        elif block[0] == "ul":
            content.append({"type": "bulletList", "content": [
                {"type": "listItem", "content": [
                    {"type": "paragraph", "content": [{"type": "text", "text": t}]}]}
                for t in block[1]]})
        else:
            content.append({"type": "codeBlock", "attrs": {"language": block[1]},
                            "content": [{"type": "text", "text": block[2]}]})
    return {"type": "doc", "version": 1, "content": content}


def doc_wiki(doc):
    out = []
    for block in doc:
        if block[0] == "p":
            out.append("".join(n[1] if n[0] == "text" else "\n" if n[0] == "br"
                               else "[~accountid:%s]" % n[1] for n in block[1]))
        elif block[0] == "ul":
            out.append("\n".join("* " + t for t in block[1]))
        else:
            out.append("{code:%s}\n%s\n{code}" % (block[1], block[2]))
    return "\n\n".join(out)


def rich_doc(rng, people, author_idx):
    """One of four structured comments (mention, bullet list, hard break, code block)."""
    kind = rng.randrange(4)
    if kind == 0:
        other = people[(author_idx + 1 + rng.randrange(len(people) - 1)) % len(people)]
        return [("p", [("text", "Pairing with "), ("mention", other.account_id, other.name),
                       ("text", rng.choice((" on the payment review", " on flaky tests")))])]
    if kind == 1:
        return [("p", [("text", "Sprint tasks:")]),
                ("ul", rng.sample(["Fix flaky test", "Update changelog", "Deploy to staging",
                                   "Answer support ticket", "Review PR"], 3))]
    if kind == 2:
        return [("p", [("text", "Investigated slow query"), ("br",),
                       ("text", rng.choice(("Root cause: missing index", "Root cause: lock wait")))])]
    return [("p", [("text", "Ran the migration:")]),
            ("code", "sql", "ALTER TABLE worklog ADD COLUMN note text;\nVACUUM ANALYZE worklog;")]
