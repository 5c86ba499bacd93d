/* Looking at a paused recovery (see inspect.h): row counts against what the
 * run recorded, and the engineer's own query, read-only by three locks: the
 * server is in recovery, the transaction is READ ONLY, and the query runs as
 * pg_read_all_data inside a cursor, after a check of its text that refuses
 * what would promote, resume or otherwise change the server. */
#include "config.h"

#include "recovery/inspect.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "recovery/audit.h"
#include "recovery/runner.h"
#include "source/pg.h"
#include "storage/layout.h"

/* ------------------------------------------------------------ tables of text */

void pgr_qtable_free(struct pgr_qtable *t)
{
	for (size_t i = 0; i < t->n_cols; i++)
		free(t->cols[i]);
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cols);
	free(t->cells);
	memset(t, 0, sizeof *t);
}

const char *pgr_qtable_cell(const struct pgr_qtable *t, size_t row, size_t col)
{
	if (row >= t->n_rows || col >= t->n_cols)
		return NULL;
	return t->cells[row * t->n_cols + col];
}

static void qt_init(struct pgr_qtable *t, size_t n_cols, const char *const *names)
{
	memset(t, 0, sizeof *t);
	t->n_cols = n_cols;
	t->cols = xcalloc(n_cols + 1, sizeof *t->cols);
	for (size_t i = 0; i < n_cols; i++)
		t->cols[i] = xstrdup(names[i]);
}

/* Append a row; cells are taken over (may be NULL). */
static void qt_add_row(struct pgr_qtable *t, char **cells)
{
	t->cells = xrealloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof *t->cells);
	for (size_t i = 0; i < t->n_cols; i++)
		t->cells[t->n_rows * t->n_cols + i] = cells[i];
	t->n_rows++;
}

#define CELL_SHOWN_MAX 200

/* What a cell shows: newlines and tabs escaped, long values cut. */
static char *shown(const char *v)
{
	struct strbuf sb = STRBUF_INIT;
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++) {
		if ((*p & 0xC0) != 0x80 && ++chars > CELL_SHOWN_MAX) {
			sb_append(&sb, "...");
			break;
		}
		if (*p == '\n')
			sb_append(&sb, "\\n");
		else if (*p == '\t')
			sb_append(&sb, "\\t");
		else if (*p == '\r')
			sb_append(&sb, "\\r");
		else
			sb_printf(&sb, "%c", *p);
	}
	return sb_steal(&sb);
}

static size_t width(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xC0) != 0x80;
	return n;
}

static bool numeric(const char *s)
{
	if (!s || !*s)
		return false;
	if (*s == '-')
		s++;
	bool digit = false;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			digit = true;
		else if (*s != '.')
			return false;
	}
	return digit;
}

static void pad(struct strbuf *sb, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_append(sb, " ");
}

char *pgr_qtable_text(const struct pgr_qtable *t)
{
	struct strbuf sb = STRBUF_INIT;
	size_t nc = t->n_cols, nr = t->n_rows;
	char **cells = xcalloc(nr * nc + 1, sizeof *cells);
	size_t *w = xcalloc(nc + 1, sizeof *w);
	bool *right = xcalloc(nc + 1, sizeof *right);
	for (size_t c = 0; c < nc; c++) {
		w[c] = width(t->cols[c]);
		right[c] = nr > 0;
	}
	for (size_t i = 0; i < nr * nc; i++) {
		cells[i] = shown(t->cells[i]);
		size_t c = i % nc;
		if (width(cells[i]) > w[c])
			w[c] = width(cells[i]);
		if (t->cells[i] && !numeric(t->cells[i]))
			right[c] = false;
	}
	for (size_t c = 0; c < nc; c++) {
		size_t l = width(t->cols[c]);
		sb_append(&sb, c ? " | " : " ");
		/* Headers centred as psql does. */
		pad(&sb, (w[c] - l) / 2);
		sb_append(&sb, t->cols[c]);
		if (c + 1 < nc)
			pad(&sb, w[c] - l - (w[c] - l) / 2);
	}
	sb_append(&sb, "\n");
	for (size_t c = 0; c < nc; c++) {
		sb_append(&sb, c ? "-+-" : "-");
		for (size_t i = 0; i < w[c]; i++)
			sb_append(&sb, "-");
	}
	sb_append(&sb, nc ? "-\n" : "\n");
	for (size_t r = 0; r < nr; r++) {
		for (size_t c = 0; c < nc; c++) {
			const char *v = cells[r * nc + c];
			sb_append(&sb, c ? " | " : " ");
			if (right[c])
				pad(&sb, w[c] - width(v));
			sb_append(&sb, v);
			if (!right[c] && c + 1 < nc)
				pad(&sb, w[c] - width(v));
		}
		sb_append(&sb, "\n");
	}
	sb_printf(&sb, "(%zu row%s)\n", nr, nr == 1 ? "" : "s");
	if (t->truncated)
		sb_printf(&sb, "(only the first %zu rows: more were left off; raise --limit to see them)\n", nr);
	for (size_t i = 0; i < nr * nc; i++)
		free(cells[i]);
	free(cells);
	free(w);
	free(right);
	return sb_steal(&sb);
}

/* ------------------------------------------------------------ the run */

void pgr_inspect_free(struct pgr_inspect *in)
{
	free(in->run_id);
	free(in->database);
	free(in->target);
	free(in->base);
	free(in->status);
	free(in->notes);
	pgr_qtable_free(&in->counts);
	memset(in, 0, sizeof *in);
}

static void limits(const struct pgr_inspect_limits *lim, int *rows, int *secs)
{
	*rows = lim && lim->max_rows > 0 ? lim->max_rows : PGR_INSPECT_MAX_ROWS;
	if (*rows > PGR_INSPECT_ROWS_CAP)
		*rows = PGR_INSPECT_ROWS_CAP;
	*secs = lim && lim->timeout_sec > 0 ? lim->timeout_sec : PGR_INSPECT_TIMEOUT_SEC;
}

static bool load_pitr_plan(const char *run_dir, struct pgr_plan *p, struct pgr_error *err)
{
	if (!pgr_run_load_plan(run_dir, p, err))
		return false;
	if (p->kind && !strcmp(p->kind, "pitr"))
		return true;
	pgr_error_set(err, PGR_ERR_USAGE, "run %s is a %s run: only a point-in-time recovery can be inspected",
	              p->run_id ? p->run_id : "?", p->kind ? p->kind : "?");
	pgr_error_hint(err, "`pgrescue runs` lists the runs; a pitr run planned with --pause stops for this.");
	pgr_plan_free(p);
	return false;
}

/* The server must be the recovering one: in recovery, so read-only. */
static bool check_recovering(const struct pgr_plan *p, const struct pgr_pitr_stop *st, struct pgr_error *err)
{
	const char *run = p->run_id ? p->run_id : "?";
	if (!st->live) {
		pgr_error_set(err, PGR_ERR_DB, "the server of run %s does not answer", run);
		pgr_error_hint(err, "Is it up? `pgrescue runs show %s` shows where the run stands.", run);
		return false;
	}
	if (!st->in_recovery) {
		pgr_error_set(
		        err, PGR_ERR_USAGE,
		        "the server of run %s is no longer in recovery (promoted): there is no paused recovery to "
		        "inspect",
		        run);
		pgr_error_hint(err, "It is a normal server again; query it with psql as usual.");
		return false;
	}
	return true;
}

static void add_names(const char *lines, char ***names, size_t *n)
{
	for (const char *p = lines; p && *p;) {
		const char *tab = strchr(p, '\t'), *nl = strchr(p, '\n');
		if (!tab || (nl && nl < tab))
			break;
		char *name = xstrndup(p, (size_t)(tab - p));
		bool seen = false;
		for (size_t i = 0; i < *n && !seen; i++)
			seen = !strcmp((*names)[i], name);
		if (seen)
			free(name);
		else {
			*names = xrealloc(*names, (*n + 1) * sizeof **names);
			(*names)[(*n)++] = name;
		}
		p = nl ? nl + 1 : NULL;
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *count_cell(const char *lines, const char *name)
{
	int64_t v = lines ? pgr_pitr_count_of(lines, name) : -1;
	return v >= 0 ? xasprintf("%" PRId64, v) : NULL;
}

/* Exact counts now, each under statement_timeout in its own savepoint so
 * one slow table does not cost the others. "name<TAB>rows" lines. */
static bool count_now(PGconn *c, int secs, struct strbuf *out, struct strbuf *notes, struct pgr_error *err)
{
	char *set = xasprintf("SET LOCAL statement_timeout = '%ds'", secs);
	bool ok = pgr_pg_exec(c, "BEGIN READ ONLY", NULL, err) && pgr_pg_exec(c, set, NULL, err);
	free(set);
	PGresult *res = NULL;
	ok = ok &&
	        pgr_pg_exec(c,
	                    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
	                    "c.relnamespace WHERE c.relkind IN ('r','p') AND n.nspname NOT IN "
	                    "('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND NOT "
	                    "c.relispartition ORDER BY 1, 2",
	                    &res, err);
	for (int i = 0; ok && i < PQntuples(res); i++) {
		const char *schema = PQgetvalue(res, i, 0), *table = PQgetvalue(res, i, 1);
		char *qs = pgr_pg_quote_ident(c, schema), *qt = pgr_pg_quote_ident(c, table);
		char *sql = xasprintf("SELECT count(*) FROM %s.%s", qs, qt);
		char *v = NULL;
		struct pgr_error cerr = {0};
		ok = pgr_pg_exec(c, "SAVEPOINT pgr_count", NULL, err);
		if (ok && pgr_pg_value(c, sql, &v, &cerr)) {
			sb_printf(out, "%s.%s\t%s\n", schema, table, v ? v : "0");
			ok = pgr_pg_exec(c, "RELEASE SAVEPOINT pgr_count", NULL, err);
		} else if (ok) {
			sb_printf(notes, "%s.%s: not counted: %s\n", schema, table, cerr.msg);
			ok = pgr_pg_exec(c, "ROLLBACK TO SAVEPOINT pgr_count", NULL, err);
		}
		free(v);
		free(sql);
		free(qs);
		free(qt);
	}
	PQclear(res);
	pgr_pg_exec(c, "ROLLBACK", NULL, NULL);
	return ok;
}

bool pgr_inspect_run(const char *run_dir, const struct pgr_inspect_limits *lim, struct pgr_inspect *out,
                     struct pgr_error *err)
{
	memset(out, 0, sizeof *out);
	int rows, secs;
	limits(lim, &rows, &secs);
	struct pgr_plan p;
	if (!load_pitr_plan(run_dir, &p, err))
		return false;
	struct pgr_run_info info;
	struct pgr_kvlist facts = {0};
	if (!pgr_run_info_load(run_dir, &info, err) || !pgr_run_load_facts(run_dir, &facts, err)) {
		pgr_plan_free(&p);
		return false;
	}
	const char *db = pgr_kv_get(&p.params, "database");
	out->run_id = xstrdup(info.id);
	out->database = xstrdup(db ? db : "postgres");
	out->target = xstrdup(pgr_kv_get(&p.params, "target") ? pgr_kv_get(&p.params, "target") : "?");
	out->base = xstrdup(pgr_kv_get(&p.params, "base") ? pgr_kv_get(&p.params, "base") : "?");
	out->status = xstrdup(pgr_run_status_name(info.status));
	out->at_gate = info.status == PGR_RUN_WAITING && info.current < info.n_steps &&
	        !strcmp(info.steps[info.current].id, "promote");
	pgr_run_info_free(&info);
	bool ok = pgr_pitr_read_stop(&p, NULL, &out->stop, err) && check_recovering(&p, &out->stop, err);
	PGconn *c = ok ? pgr_pg_connect(p.env.dsn, out->database, 5, err) : NULL;
	ok = ok && c;
	struct strbuf now = STRBUF_INIT, notes = STRBUF_INIT;
	if (ok)
		ok = count_now(c, secs, &now, &notes, err);
	if (c)
		PQfinish(c);
	if (ok) {
		const char *backup = pgr_kv_get(&p.params, "counts_backup");
		const char *before = pgr_kv_get(&facts, "counts_now");
		char **names = NULL;
		size_t n = 0;
		add_names(sb_str(&now), &names, &n);
		add_names(backup, &names, &n);
		add_names(before, &names, &n);
		if (n > 1)
			qsort(names, n, sizeof *names, by_name);
		char bcol[96];
		snprintf(bcol, sizeof bcol, "base backup %s", out->base);
		const char *cols[] = {"table", bcol, "before recovery", "now"};
		qt_init(&out->counts, 4, cols);
		for (size_t i = 0; i < n; i++) {
			char *cells[4] = {names[i], count_cell(backup, names[i]), count_cell(before, names[i]),
			                  count_cell(sb_str(&now), names[i])};
			qt_add_row(&out->counts, cells);
		}
		free(names);
		if (!backup || !*backup)
			sb_append(&notes, "The base backup's manifest recorded no row counts.\n");
		if (!before)
			sb_append(&notes,
			          "No counts were taken before the recovery (the server did not answer then).\n");
		if (!out->at_gate)
			sb_printf(&notes, "The run is %s, not waiting at its promote gate: counts may still move.\n",
			          out->status);
		out->notes = sb_steal(&notes);
	} else {
		sb_free(&notes);
		pgr_inspect_free(out);
	}
	sb_free(&now);
	pgr_kv_free(&facts);
	pgr_plan_free(&p);
	return ok;
}

/* ------------------------------------------------------------ the engineer's query */

/* Called as functions, these change the server's state (promote, resume
 * replay, signal backends, write files) or run SQL given as text, which
 * would escape this check. */
static const char *const denied[] = {
        "pg_promote",
        "pg_wal_replay_resume",
        "pg_wal_replay_pause",
        "pg_terminate_backend",
        "pg_cancel_backend",
        "pg_reload_conf",
        "pg_rotate_logfile",
        "pg_switch_wal",
        "pg_create_restore_point",
        "pg_log_backend_memory_contexts",
        "pg_backup_start",
        "pg_backup_stop",
        "pg_start_backup",
        "pg_stop_backup",
        "pg_import_system_collations",
        "pg_notify",
        "set_config",
        "query_to_xml",
        "query_to_xmlschema",
        "query_to_xml_and_xmlschema",
        "cursor_to_xml",
        "cursor_to_xmlschema",
        "nextval",
        "setval",
        NULL,
};
static const char *const denied_prefix[] = {
        "dblink",     "lo_",      "pg_file_", "pg_stat_reset", "pg_replication_",
        "pg_create_", "pg_drop_", "pg_copy_", "pg_logical_",   NULL,
};

static bool denied_name(const char *name)
{
	for (size_t i = 0; denied[i]; i++)
		if (!strcmp(name, denied[i]))
			return true;
	for (size_t i = 0; denied_prefix[i]; i++)
		if (!strncmp(name, denied_prefix[i], strlen(denied_prefix[i])))
			return true;
	return false;
}

static bool ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return ident_start(c) || isdigit(c) || c == '$';
}

/* Past whitespace and comments. */
static const char *skip_space(const char *p)
{
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (p[0] == '-' && p[1] == '-') {
			while (*p && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			int depth = 0;
			do {
				if (p[0] == '/' && p[1] == '*')
					depth++, p += 2;
				else if (p[0] == '*' && p[1] == '/')
					depth--, p += 2;
				else if (*p)
					p++;
			} while (*p && depth > 0);
		} else {
			return p;
		}
	}
}

static bool refuse_sql(struct pgr_error *err, const char *msg)
{
	pgr_error_set(err, PGR_ERR_USAGE, "%s", msg);
	pgr_error_hint(err,
	               "The paused server is for looking only: one query (SELECT, WITH, TABLE or VALUES) that reads. "
	               "`pgrescue runs resume` promotes it; `pgrescue runs retarget` moves the target.");
	return false;
}

bool pgr_inspect_sql_allowed(const char *sql, struct pgr_error *err)
{
	if (!sql)
		sql = "";
	bool first = true;
	const char *p = skip_space(sql);
	while (*p == '(')
		p = skip_space(p + 1);
	if (!*p) {
		pgr_error_set(err, PGR_ERR_USAGE, "the query is empty");
		pgr_error_hint(err, "Give one, e.g. --sql \"SELECT count(*) FROM users\".");
		return false;
	}
	char tok[128];
	while (*p) {
		unsigned char ch = (unsigned char)*p;
		if (isspace(ch) || (p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*')) {
			p = skip_space(p);
			continue;
		}
		bool estr = (ch == 'e' || ch == 'E') && p[1] == '\'';
		if ((ch == '\'' || estr || ch == '$') && first)
			return refuse_sql(
			        err, "only a query can run on the paused server (SELECT, WITH, TABLE or VALUES first)");
		if (ch == '\'' || estr) {
			/* A string: names in it are data, not calls. E'' strings escape with backslashes. */
			p += estr ? 2 : 1;
			while (*p) {
				if (estr && *p == '\\' && p[1])
					p += 2;
				else if (*p == '\'' && p[1] == '\'')
					p += 2;
				else if (*p == '\'')
					break;
				else
					p++;
			}
			if (*p)
				p++;
			first = false;
			continue;
		}
		if (ch == '$') {
			const char *q = p + 1;
			while (ident_char((unsigned char)*q) && *q != '$')
				q++;
			if (*q == '$' && !isdigit((unsigned char)p[1])) {
				size_t tl = (size_t)(q - p + 1);
				const char *end = q + 1;
				while (*end && strncmp(end, p, tl) != 0)
					end++;
				p = *end ? end + tl : end;
				first = false;
				continue;
			}
			p++;
			continue;
		}
		size_t n = 0;
		bool quoted = false;
		if ((ch == 'u' || ch == 'U') && p[1] == '&' && (p[2] == '"' || p[2] == '\''))
			return refuse_sql(err, "the query uses a U& escape, which pgrescue does not accept here");
		if (ch == '"') {
			quoted = true;
			p++;
			while (*p && !(*p == '"' && p[1] != '"')) {
				if (*p == '"')
					p++;
				if (n + 1 < sizeof tok)
					tok[n++] = (char)tolower((unsigned char)*p);
				p++;
			}
			if (*p)
				p++;
		} else if (ident_start(ch)) {
			while (ident_char((unsigned char)*p)) {
				if (n + 1 < sizeof tok)
					tok[n++] = (char)tolower((unsigned char)*p);
				p++;
			}
		} else {
			if (first)
				return refuse_sql(err,
				                  "only a query can run on the paused server (SELECT, WITH, TABLE or "
				                  "VALUES first)");
			p++;
			continue;
		}
		tok[n] = '\0';
		if (first) {
			first = false;
			if (quoted ||
			    (strcmp(tok, "select") && strcmp(tok, "with") && strcmp(tok, "table") &&
			     strcmp(tok, "values"))) {
				char *up = xstrdup(tok);
				for (char *c = up; *c; c++)
					*c = (char)toupper((unsigned char)*c);
				pgr_error_set(err, PGR_ERR_USAGE,
				              "only a query can run on the paused server: %s is not one (SELECT, WITH, "
				              "TABLE or VALUES)",
				              up);
				pgr_error_hint(
				        err,
				        "The recovered server is read-only until it is promoted, and pgrescue runs "
				        "nothing there that writes. `pgrescue runs resume` promotes it.");
				free(up);
				return false;
			}
			continue;
		}
		if (*skip_space(p) == '(' && denied_name(tok)) {
			pgr_error_set(err, PGR_ERR_USAGE,
			              "the query calls %s(), which would change the paused server (or run other SQL): "
			              "refused",
			              tok);
			pgr_error_hint(
			        err,
			        "Inspection only reads. Promote with `pgrescue runs resume`, move the target with "
			        "`pgrescue runs retarget`.");
			return false;
		}
	}
	return true;
}

/* The server's words, with a hint for what usually went wrong. */
static void query_error(PGresult *r, PGconn *c, int secs, struct pgr_error *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *hint = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;
	if (!msg)
		msg = PQerrorMessage(c);
	state = state ? state : "";
	pgr_error_set(err, PGR_ERR_DB, "the query failed on the paused server: %s", msg);
	if (detail)
		pgr_error_detail(err, "%s (SQLSTATE %s)", detail, state);
	else if (*state)
		pgr_error_detail(err, "SQLSTATE %s", state);
	if (!strcmp(state, "25006") || !strcmp(state, "0A000"))
		pgr_error_hint(err, "The paused server is read-only and pgrescue runs nothing there that writes.");
	else if (!strcmp(state, "42501"))
		pgr_error_hint(err,
		               "The query runs as pg_read_all_data: it reads every table but calls nothing that "
		               "needs more.");
	else if (!strcmp(state, "57014"))
		pgr_error_hint(err, "It ran longer than %d s (statement_timeout). Narrow it down, or raise --timeout.",
		               secs);
	else if (!strcmp(state, "42601") && strstr(msg, "multiple commands"))
		pgr_error_hint(err, "One query at a time.");
	else if (hint)
		pgr_error_hint(err, "%s", hint);
	else if (state[0] == '4' && state[1] == '2')
		pgr_error_hint(err, "Check the query's SQL and the names in it.");
}

static bool run_sql(PGconn *c, const char *sql, int secs, struct pgr_error *err, PGresult **out)
{
	PGresult *r = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out)
			*out = r;
		else
			PQclear(r);
		return true;
	}
	query_error(r, c, secs, err);
	PQclear(r);
	return false;
}

/* Trailing semicolons and space cut (people type them). Newly allocated. */
static char *trimmed(const char *sql)
{
	size_t n = strlen(sql);
	while (n > 0 && (isspace((unsigned char)sql[n - 1]) || sql[n - 1] == ';'))
		n--;
	return xstrndup(sql, n);
}

static bool query_on(const struct pgr_plan *p, const char *sql, int rows, int secs, struct pgr_qtable *out,
                     struct pgr_error *err)
{
	const char *db = pgr_kv_get(&p->params, "database");
	PGconn *c = pgr_pg_connect(p->env.dsn, db ? db : "postgres", 5, err);
	if (!c)
		return false;
	char *v = NULL;
	bool ok = pgr_pg_value(c, "SELECT pg_is_in_recovery()", &v, err);
	if (ok && !(v && !strcmp(v, "t"))) {
		struct pgr_pitr_stop st = {.live = true};
		ok = check_recovering(p, &st, err);
	}
	free(v);
	char *set = xasprintf("SET LOCAL statement_timeout = '%ds'", secs);
	ok = ok && run_sql(c, "BEGIN READ ONLY", secs, err, NULL) && run_sql(c, set, secs, err, NULL) &&
	        run_sql(c, "SET LOCAL standard_conforming_strings = on", secs, err, NULL);
	free(set);
	/* Where the server has pg_read_all_data (14+) and we may take it, the
	 * query runs with reading rights only. */
	char *can = NULL;
	if (ok &&
	    pgr_pg_value(c,
	                 "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_read_all_data') "
	                 "THEN pg_has_role(current_user, 'pg_read_all_data', 'MEMBER') ELSE false END",
	                 &can, err) &&
	    can && !strcmp(can, "t"))
		ok = run_sql(c, "SET LOCAL ROLE pg_read_all_data", secs, err, NULL);
	free(can);
	char *q = trimmed(sql);
	char *declare = xasprintf("DECLARE pgr_inspect NO SCROLL CURSOR FOR %s", q);
	free(q);
	ok = ok && run_sql(c, declare, secs, err, NULL);
	free(declare);
	char *fetch = xasprintf("FETCH FORWARD %d FROM pgr_inspect", rows + 1);
	PGresult *res = NULL;
	ok = ok && run_sql(c, fetch, secs, err, &res);
	free(fetch);
	if (ok) {
		int nf = PQnfields(res), nt = PQntuples(res);
		const char **names = xcalloc((size_t)nf + 1, sizeof *names);
		for (int f = 0; f < nf; f++)
			names[f] = PQfname(res, f);
		qt_init(out, (size_t)nf, names);
		free(names);
		char **cells = xcalloc((size_t)nf + 1, sizeof *cells);
		for (int r = 0; r < nt && r < rows; r++) {
			for (int f = 0; f < nf; f++)
				cells[f] = PQgetisnull(res, r, f) ? NULL : xstrdup(PQgetvalue(res, r, f));
			qt_add_row(out, cells);
		}
		free(cells);
		out->truncated = nt > rows;
	}
	PQclear(res);
	PQclear(PQexec(c, "ROLLBACK"));
	PQfinish(c);
	return ok;
}

/* Who ran what on the recovered database is worth keeping, read-only or not. */
static void audit_query(const struct pgr_plan *p, const char *sql, const char *outcome, const char *detail)
{
	struct pgr_audit a;
	struct pgr_error aerr = {0};
	if (!pgr_audit_open(&a, p->env.audit_log, p->env.audit_key_file, &aerr))
		return;
	char *cmd = xasprintf("read-only query on the paused server: %.2000s", sql);
	struct pgr_audit_event ev = {
	        .env = p->env.name,
	        .incident = p->incident,
	        .reason = p->reason,
	        .run = p->run_id,
	        .plan = p->kind,
	        .step = "inspect",
	        .phase = !strcmp(outcome, "refused") ? "refused" : "inspect",
	        .command = cmd,
	        .outcome = outcome,
	        .detail = detail,
	        .duration_ms = -1,
	};
	pgr_audit_append(&a, &ev, &aerr);
	pgr_audit_close(&a);
	free(cmd);
}

bool pgr_inspect_query(const char *run_dir, const char *sql, const struct pgr_inspect_limits *lim,
                       struct pgr_qtable *out, struct pgr_error *err)
{
	memset(out, 0, sizeof *out);
	int rows, secs;
	limits(lim, &rows, &secs);
	struct pgr_plan p;
	if (!load_pitr_plan(run_dir, &p, err))
		return false;
	bool allowed = pgr_inspect_sql_allowed(sql, err);
	bool ok = allowed && query_on(&p, sql ? sql : "", rows, secs, out, err);
	char *detail = ok ? xasprintf("%zu row%s%s", out->n_rows, out->n_rows == 1 ? "" : "s",
	                              out->truncated ? " (more left off)" : "")
	                  : xstrdup(err->msg);
	audit_query(&p, sql ? sql : "", ok ? "ok" : allowed ? "failed" : "refused", detail);
	free(detail);
	if (!ok)
		pgr_qtable_free(out);
	pgr_plan_free(&p);
	return ok;
}

/* ------------------------------------------------------------ JSON */

static cJSON *qtable_json(const struct pgr_qtable *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *cols = cJSON_AddArrayToObject(o, "columns");
	for (size_t c = 0; c < t->n_cols; c++)
		cJSON_AddItemToArray(cols, cJSON_CreateString(t->cols[c]));
	cJSON *rows = cJSON_AddArrayToObject(o, "rows");
	for (size_t r = 0; r < t->n_rows; r++) {
		cJSON *row = cJSON_CreateArray();
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *v = pgr_qtable_cell(t, r, c);
			cJSON_AddItemToArray(row, v ? cJSON_CreateString(v) : cJSON_CreateNull());
		}
		cJSON_AddItemToArray(rows, row);
	}
	cJSON_AddBoolToObject(o, "truncated", t->truncated);
	return o;
}

char *pgr_inspect_json(const struct pgr_inspect *in, const struct pgr_qtable *q)
{
	cJSON *o = cJSON_CreateObject();
	if (in) {
		cJSON_AddStringToObject(o, "run", in->run_id);
		cJSON_AddStringToObject(o, "database", in->database);
		cJSON_AddStringToObject(o, "target", in->target);
		cJSON_AddStringToObject(o, "base", in->base);
		cJSON_AddStringToObject(o, "status", in->status);
		cJSON_AddBoolToObject(o, "at_gate", in->at_gate);
		cJSON *st = cJSON_AddObjectToObject(o, "stop");
		cJSON_AddBoolToObject(st, "live", in->stop.live);
		cJSON_AddBoolToObject(st, "in_recovery", in->stop.in_recovery);
		cJSON_AddStringToObject(st, "pause", in->stop.pause);
		char lsn[32] = "";
		if (in->stop.lsn)
			pgr_lsn_format(in->stop.lsn, lsn, sizeof lsn);
		cJSON_AddStringToObject(st, "lsn", lsn);
		if (in->stop.xact_time > 0)
			cJSON_AddNumberToObject(st, "last_xact_time", in->stop.xact_time);
		else
			cJSON_AddNullToObject(st, "last_xact_time");
		cJSON_AddItemToObject(o, "counts", qtable_json(&in->counts));
		cJSON_AddStringToObject(o, "notes", in->notes ? in->notes : "");
	}
	if (q)
		cJSON_AddItemToObject(o, "query", qtable_json(q));
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	return text;
}
