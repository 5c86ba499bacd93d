/* walscan: pg_waldump over archived WAL -> destructive events. See walscan.h.
 *
 * What PostgreSQL 15's WAL shows (pg_waldump text):
 *   DROP TABLE   COMMIT ...; rels: base/5/16384; dropped stats: 2/5/16384
 *                (the relation's oid in the stats list, no new relfilenode)
 *   TRUNCATE     Storage CREATE base/5/16396 in the transaction (the new, empty
 *                relfilenode of the surviving relation), COMMIT ...; rels: the
 *                old ones; no stats entry dropped
 *   rewrites     VACUUM FULL, CLUSTER, ALTER TABLE ... TYPE: a transient heap
 *                is created (Storage CREATE of its oid = relfilenode), the files
 *                are swapped, and the transient relation is dropped: its oid is
 *                both CREATEd and in "dropped stats"
 *   DELETE/UPDATE  Heap DELETE / UPDATE / HOT_UPDATE records with the xid,
 *                counted until the transaction's COMMIT (subtransactions
 *                merged through the COMMIT's "subxacts:" list). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "recovery/walscan.h"
#include "source/pg.h"
#include "source/waldump.h"
#include "storage/layout.h"

#define FIRST_USER_OID 16384u
#define XBUCKETS 4096
/* A remote base backup larger than this is not downloaded only to name relations. */
#define BASE_FETCH_MAX ((uint64_t)4 << 30)

/* ------------------------------------------------------------ events */

const char *pgr_event_kind_name(enum pgr_event_kind k)
{
	switch (k) {
	case PGR_EVENT_DROP: return "drop";
	case PGR_EVENT_TRUNCATE: return "truncate";
	case PGR_EVENT_MASS_DELETE: return "mass delete";
	case PGR_EVENT_MASS_UPDATE: return "mass update";
	case PGR_EVENT_REWRITE: return "rewrite";
	}
	return "?";
}

bool pgr_event_is_loss(enum pgr_event_kind k)
{
	return k != PGR_EVENT_REWRITE;
}

void pgr_event_free(struct pgr_event *e)
{
	for (size_t i = 0; i < e->n_rels; i++) {
		free(e->rels[i].name);
		free(e->rels[i].source);
	}
	free(e->rels);
	free(e->db_name);
	memset(e, 0, sizeof *e);
}

void pgr_event_list_free(struct pgr_event_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pgr_event_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static struct pgr_event *list_add(struct pgr_event_list *l)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof *l->v);
	struct pgr_event *e = &l->v[l->n++];
	memset(e, 0, sizeof *e);
	return e;
}

static void event_add_rel(struct pgr_event *e, uint32_t node, int64_t rows)
{
	e->rels = xrealloc(e->rels, (e->n_rels + 1) * sizeof *e->rels);
	e->rels[e->n_rels++] = (struct pgr_event_rel){.node = node, .rows = rows};
}

/* ------------------------------------------------------------ parser */

struct relcount {
	uint32_t db, node;
	int64_t del, upd;
};

struct xstate {
	uint64_t xid;
	struct xstate *next;
	struct relcount *rc;
	size_t n_rc;
	uint32_t *created;
	size_t n_created;
	uint32_t db; /* of the created files */
};

struct pgr_waldump_parser {
	uint32_t tli;
	int64_t min_rows;
	struct xstate *b[XBUCKETS];
	struct pgr_event_list out;
};

struct pgr_waldump_parser *pgr_waldump_parser_new(uint32_t timeline, int64_t min_rows)
{
	struct pgr_waldump_parser *p = xcalloc(1, sizeof *p);
	p->tli = timeline;
	p->min_rows = min_rows > 0 ? min_rows : 1;
	return p;
}

static void xstate_free(struct xstate *x)
{
	free(x->rc);
	free(x->created);
	free(x);
}

void pgr_waldump_parser_free(struct pgr_waldump_parser *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < XBUCKETS; i++) {
		while (p->b[i]) {
			struct xstate *n = p->b[i]->next;
			xstate_free(p->b[i]);
			p->b[i] = n;
		}
	}
	pgr_event_list_free(&p->out);
	free(p);
}

void pgr_waldump_parser_take(struct pgr_waldump_parser *p, struct pgr_event_list *out)
{
	for (size_t i = 0; i < p->out.n; i++)
		*list_add(out) = p->out.v[i];
	free(p->out.v);
	p->out.v = NULL;
	p->out.n = 0;
}

static struct xstate *xget(struct pgr_waldump_parser *p, uint64_t xid, bool create)
{
	struct xstate **pp = &p->b[xid % XBUCKETS];
	for (struct xstate *x = *pp; x; x = x->next)
		if (x->xid == xid)
			return x;
	if (!create)
		return NULL;
	struct xstate *x = xcalloc(1, sizeof *x);
	x->xid = xid;
	x->next = *pp;
	*pp = x;
	return x;
}

/* Unlink and return (caller frees). */
static struct xstate *xtake(struct pgr_waldump_parser *p, uint64_t xid)
{
	for (struct xstate **pp = &p->b[xid % XBUCKETS]; *pp; pp = &(*pp)->next) {
		if ((*pp)->xid == xid) {
			struct xstate *x = *pp;
			*pp = x->next;
			x->next = NULL;
			return x;
		}
	}
	return NULL;
}

static struct relcount *xrel(struct xstate *x, uint32_t db, uint32_t node)
{
	for (size_t i = 0; i < x->n_rc; i++)
		if (x->rc[i].node == node && x->rc[i].db == db)
			return &x->rc[i];
	x->rc = xrealloc(x->rc, (x->n_rc + 1) * sizeof *x->rc);
	x->rc[x->n_rc] = (struct relcount){.db = db, .node = node};
	return &x->rc[x->n_rc++];
}

static void xmerge(struct xstate *into, struct xstate *from)
{
	for (size_t i = 0; i < from->n_rc; i++) {
		struct relcount *r = xrel(into, from->rc[i].db, from->rc[i].node);
		r->del += from->rc[i].del;
		r->upd += from->rc[i].upd;
	}
	for (size_t i = 0; i < from->n_created; i++) {
		into->created = xrealloc(into->created, (into->n_created + 1) * sizeof *into->created);
		into->created[into->n_created++] = from->created[i];
		into->db = from->db;
	}
}

static bool has_prefix(const char *s, const char *end, const char *pfx)
{
	size_t n = strlen(pfx);
	return (size_t)(end - s) >= n && !memcmp(s, pfx, n);
}

static const char *find(const char *s, const char *end, const char *needle)
{
	size_t n = strlen(needle);
	for (; s + n <= end; s++) {
		s = memchr(s, needle[0], (size_t)(end - s));
		if (!s || s + n > end)
			return NULL;
		if (!memcmp(s, needle, n))
			return s;
	}
	return NULL;
}

static uint64_t num(const char **pp, const char *end, int base)
{
	const char *p = *pp;
	uint64_t v = 0;
	for (; p < end; p++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else
			break;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*pp = p;
	return v;
}

/* ".../DB/NODE" at p (a path such as base/5/16384 or pg_tblspc/1/PG_15_x/5/16384,
 * ending at a space, ';' or end): the last two numbers. Advances *pp past it. */
static bool path_db_node(const char **pp, const char *end, uint32_t *db, uint32_t *node)
{
	const char *p = *pp;
	while (p < end && *p == ' ')
		p++;
	const char *s = p;
	while (p < end && *p != ' ' && *p != ';' && *p != ',')
		p++;
	*pp = p;
	const char *slash2 = NULL, *slash1 = NULL;
	for (const char *q = s; q < p; q++)
		if (*q == '/') {
			slash1 = slash2;
			slash2 = q;
		}
	if (!slash2 || !slash1)
		return false;
	const char *q = slash1 + 1;
	*db = (uint32_t)num(&q, slash2, 10);
	q = slash2 + 1;
	*node = (uint32_t)num(&q, p, 10);
	return q == p && p > slash2 + 1;
}

static bool in_set(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void push_u32(uint32_t **v, size_t *n, uint32_t x)
{
	if (in_set(*v, *n, x))
		return;
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[(*n)++] = x;
}

static struct pgr_event *new_event(struct pgr_waldump_parser *p, enum pgr_event_kind kind, uint64_t xid, uint64_t lsn,
                                   time_t t, int usec, uint32_t db, size_t nth)
{
	struct pgr_event *e = list_add(&p->out);
	e->kind = kind;
	e->timeline = p->tli;
	e->xid = xid;
	e->lsn = lsn;
	e->time = t;
	e->usec = usec;
	e->db_oid = db;
	e->rows = -1;
	char l[32];
	pgr_lsn_format(lsn, l, sizeof l);
	if (nth > 1)
		snprintf(e->id, sizeof e->id, "%u-%s.%zu", (unsigned)p->tli, l, nth);
	else
		snprintf(e->id, sizeof e->id, "%u-%s", (unsigned)p->tli, l);
	return e;
}

static void on_commit(struct pgr_waldump_parser *p, uint64_t xid, uint64_t lsn, const char *desc, const char *end)
{
	time_t t = 0;
	int usec = 0;
	/* The description is bounded by the line; copy the head for the time. */
	char head[96];
	size_t hn = (size_t)(end - desc) < sizeof head - 1 ? (size_t)(end - desc) : sizeof head - 1;
	memcpy(head, desc, hn);
	head[hn] = '\0';
	if (!pgr_waldump_commit_time(head, &t, &usec))
		return;
	struct xstate *x = xtake(p, xid);
	if (!x) {
		x = xcalloc(1, sizeof *x);
		x->xid = xid;
	}
	uint32_t *dropped = NULL, *stats = NULL;
	size_t n_dropped = 0, n_stats = 0;
	uint32_t db = x->db;
	for (const char *s = desc; s < end;) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *fe = semi ? semi : end;
		while (s < fe && *s == ' ')
			s++;
		if (has_prefix(s, fe, "subxacts:")) {
			const char *q = s + 9;
			while (q < fe) {
				while (q < fe && *q == ' ')
					q++;
				if (q >= fe)
					break;
				uint64_t sub = num(&q, fe, 10);
				struct xstate *sx = xtake(p, sub);
				if (sx) {
					xmerge(x, sx);
					xstate_free(sx);
				}
				while (q < fe && *q != ' ')
					q++;
			}
		} else if (has_prefix(s, fe, "rels:")) {
			const char *q = s + 5;
			while (q < fe) {
				uint32_t d, n;
				const char *before = q;
				if (path_db_node(&q, fe, &d, &n)) {
					push_u32(&dropped, &n_dropped, n);
					db = d;
				}
				if (q == before)
					q++;
			}
		} else if (has_prefix(s, fe, "dropped stats:")) {
			const char *q = s + 14;
			while (q < fe) {
				while (q < fe && *q == ' ')
					q++;
				if (q >= fe)
					break;
				const char *tok = q;
				uint64_t kind = num(&q, fe, 10);
				if (q < fe && *q == '/') {
					q++;
					uint64_t d = num(&q, fe, 10);
					if (q < fe && *q == '/') {
						q++;
						uint64_t o = num(&q, fe, 10);
						if (kind == 2 && o >= FIRST_USER_OID) {
							push_u32(&stats, &n_stats, (uint32_t)o);
							db = (uint32_t)d;
						}
					}
				}
				if (q == tok)
					q++;
				while (q < fe && *q != ' ')
					q++;
			}
		}
		s = semi ? semi + 1 : end;
	}
	size_t nth = 0;
	/* Files dropped: a DROP, a TRUNCATE or a rewrite. */
	if (n_dropped) {
		uint32_t *created = x->created;
		size_t n_created = x->n_created;
		struct pgr_event *drop = NULL, *rw = NULL, *tr = NULL;
		for (size_t i = 0; i < n_stats; i++) {
			if (in_set(created, n_created, stats[i])) {
				if (!rw)
					rw = new_event(p, PGR_EVENT_REWRITE, xid, lsn, t, usec, db, ++nth);
				event_add_rel(rw, stats[i], -1);
			} else {
				if (!drop)
					drop = new_event(p, PGR_EVENT_DROP, xid, lsn, t, usec, db, ++nth);
				event_add_rel(drop, stats[i], -1);
			}
		}
		if (!n_stats && !n_created) {
			/* No stats list (before 15): dropped files with nothing new are a DROP. */
			drop = new_event(p, PGR_EVENT_DROP, xid, lsn, t, usec, db, ++nth);
			for (size_t i = 0; i < n_dropped; i++)
				event_add_rel(drop, dropped[i], -1);
		}
		for (size_t i = 0; i < n_created; i++) {
			if (in_set(stats, n_stats, created[i]))
				continue;
			/* A new file for a relation that survives: TRUNCATE, or the
			 * indexes rebuilt by a rewrite (sorted out with the catalog). */
			if (!tr)
				tr = new_event(p, rw ? PGR_EVENT_REWRITE : PGR_EVENT_TRUNCATE, xid, lsn, t, usec, db,
				               ++nth);
			event_add_rel(tr, created[i], -1);
		}
	}
	/* Many rows deleted or updated. */
	int64_t del = 0, upd = 0;
	for (size_t i = 0; i < x->n_rc; i++) {
		del += x->rc[i].del;
		upd += x->rc[i].upd;
	}
	for (int k = 0; k < 2; k++) {
		int64_t total = k == 0 ? del : upd;
		if (total < p->min_rows)
			continue;
		struct pgr_event *e = new_event(p, k == 0 ? PGR_EVENT_MASS_DELETE : PGR_EVENT_MASS_UPDATE, xid, lsn, t,
		                                usec, 0, ++nth);
		e->rows = total;
		for (size_t i = 0; i < x->n_rc; i++) {
			int64_t n = k == 0 ? x->rc[i].del : x->rc[i].upd;
			if (n > 0) {
				event_add_rel(e, x->rc[i].node, n);
				e->db_oid = x->rc[i].db;
			}
		}
	}
	free(dropped);
	free(stats);
	xstate_free(x);
}

uint64_t pgr_waldump_parser_line(struct pgr_waldump_parser *p, const char *line, size_t len)
{
	const char *end = line + len;
	if (!has_prefix(line, end, "rmgr: "))
		return 0;
	const char *rm = line + 6;
	/* Records we never look into: skip them before parsing anything. */
	bool heap = has_prefix(rm, end, "Heap ");
	if (!heap && !has_prefix(rm, end, "Storage ") && !has_prefix(rm, end, "Transaction "))
		return 1;
	/* pg_waldump pads its fields: "tx:" is at offset 48 unless a length overflowed. */
	const char *tx = len > 51 && !memcmp(line + 48, "tx:", 3) ? line + 48 : find(rm, end, "tx:");
	if (!tx)
		return 0;
	const char *q = tx + 3;
	while (q < end && *q == ' ')
		q++;
	uint64_t xid = num(&q, end, 10);
	const char *l = end - q > 7 && !memcmp(q, ", lsn: ", 7) ? q + 2 : find(q, end, "lsn: ");
	if (!l)
		return 0;
	q = l + 5;
	uint64_t hi = num(&q, end, 16);
	if (q >= end || *q != '/')
		return 0;
	q++;
	uint64_t lsn = (hi << 32) | num(&q, end, 16);
	/* ", prev X/XXXXXXXX, desc: " */
	const char *desc = find(q, end, "desc: ");
	if (!desc)
		return lsn;
	desc += 6;
	if (heap) {
		int what = has_prefix(desc, end, "DELETE ")    ? 1
		        : has_prefix(desc, end, "UPDATE ")     ? 2
		        : has_prefix(desc, end, "HOT_UPDATE ") ? 2
		                                               : 0;
		if (!what || !xid)
			return lsn;
		const char *b = find(desc, end, "blkref #0: rel ");
		if (!b)
			return lsn;
		const char *r = b + 15;
		uint32_t db, node;
		if (!path_db_node(&r, end, &db, &node) || node < FIRST_USER_OID)
			return lsn;
		struct relcount *rc = xrel(xget(p, xid, true), db, node);
		if (what == 1)
			rc->del++;
		else
			rc->upd++;
	} else if (has_prefix(rm, end, "Storage ")) {
		if (!xid || !has_prefix(desc, end, "CREATE "))
			return lsn;
		const char *r = desc + 7;
		uint32_t db, node;
		if (path_db_node(&r, end, &db, &node) && node >= FIRST_USER_OID) {
			struct xstate *x = xget(p, xid, true);
			push_u32(&x->created, &x->n_created, node);
			x->db = db;
		}
	} else if (has_prefix(rm, end, "Transaction ")) {
		if (has_prefix(desc, end, "COMMIT ") && xid)
			on_commit(p, xid, lsn, desc, end);
		else if (has_prefix(desc, end, "ABORT ") && xid) {
			struct xstate *x = xtake(p, xid);
			if (x)
				xstate_free(x);
			/* Its subtransactions go with it. */
			const char *s = find(desc, end, "subxacts:");
			if (s) {
				const char *r = s + 9;
				const char *fe = memchr(r, ';', (size_t)(end - r));
				if (!fe)
					fe = end;
				while (r < fe) {
					while (r < fe && *r == ' ')
						r++;
					const char *before = r;
					uint64_t sub = num(&r, fe, 10);
					struct xstate *sx = r > before ? xtake(p, sub) : NULL;
					if (sx)
						xstate_free(sx);
					if (r == before)
						r++;
				}
			}
		}
	}
	return lsn;
}

/* ------------------------------------------------------------ text */

static void json_str(struct strbuf *sb, const char *s)
{
	if (!s) {
		sb_append(sb, "null");
		return;
	}
	sb_append(sb, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_printf(sb, "\\%c", c);
		else if (c < 0x20)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_append_len(sb, (const char *)&c, 1);
	}
	sb_append(sb, "\"");
}

static void time_text(const struct pgr_event *e, char sep, char *buf, size_t n)
{
	struct tm tm;
	gmtime_r(&e->time, &tm);
	snprintf(buf, n, "%04d-%02d-%02d%c%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, sep,
	         tm.tm_hour, tm.tm_min, tm.tm_sec, e->usec);
}

char *pgr_event_json(const struct pgr_event *e)
{
	struct strbuf sb = STRBUF_INIT;
	char t[48], l[32];
	time_text(e, 'T', t, sizeof t);
	pgr_lsn_format(e->lsn, l, sizeof l);
	sb_printf(&sb, "{\"id\":\"%s\",\"kind\":\"%s\",\"data_loss\":%s,\"timeline\":%u,\"time\":\"%s\",\"xid\":%llu,",
	          e->id, pgr_event_kind_name(e->kind), pgr_event_is_loss(e->kind) ? "true" : "false",
	          (unsigned)e->timeline, t, (unsigned long long)e->xid);
	sb_printf(&sb, "\"lsn\":\"%s\",\"database_oid\":%u,\"database\":", l, (unsigned)e->db_oid);
	json_str(&sb, e->db_name);
	sb_printf(&sb, ",\"rows\":%lld,\"relations\":[", (long long)e->rows);
	for (size_t i = 0; i < e->n_rels; i++) {
		const struct pgr_event_rel *r = &e->rels[i];
		sb_printf(&sb, "%s{\"relfilenode\":%u,\"name\":", i ? "," : "", (unsigned)r->node);
		json_str(&sb, r->name);
		sb_append(&sb, ",\"source\":");
		json_str(&sb, r->source);
		sb_printf(&sb, ",\"rows\":%lld}", (long long)r->rows);
	}
	sb_printf(&sb, "],\"target\":{\"recovery_target_xid\":%llu,\"recovery_target_inclusive\":false}}",
	          (unsigned long long)e->xid);
	return sb_steal(&sb);
}

char *pgr_event_line(const struct pgr_event *e)
{
	struct strbuf sb = STRBUF_INIT;
	char t[48], l[32];
	time_text(e, ' ', t, sizeof t);
	pgr_lsn_format(e->lsn, l, sizeof l);
	sb_printf(&sb, "%-16s %s  %-11s xid %-8llu lsn %-11s db %s  ", e->id, t, pgr_event_kind_name(e->kind),
	          (unsigned long long)e->xid, l, e->db_name ? e->db_name : "?");
	for (size_t i = 0; i < e->n_rels; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", e->rels[i].name ? e->rels[i].name : "?");
	if (e->rows >= 0)
		sb_printf(&sb, "  rows %lld", (long long)e->rows);
	else
		sb_append(&sb, "  rows ?");
	if (e->kind == PGR_EVENT_REWRITE)
		sb_append(&sb, "  (rewrite: no data lost)");
	return sb_steal(&sb);
}

/* ------------------------------------------------------------ catalogs */

struct relinfo {
	uint32_t oid, node;
	char relkind;
	char *name; /* schema.table */
};

struct relmap {
	uint32_t db;
	char *source; /* "live" or "base backup <label>" */
	struct relinfo *v;
	size_t n;
	bool ok;
};

static void relmap_free(struct relmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
	free(m->source);
	memset(m, 0, sizeof *m);
}

static void relmap_add(struct relmap *m, uint32_t oid, uint32_t node, char kind, const char *name)
{
	m->v = xrealloc(m->v, (m->n + 1) * sizeof *m->v);
	m->v[m->n++] = (struct relinfo){.oid = oid, .node = node, .relkind = kind, .name = xstrdup(name)};
}

static const struct relinfo *by_node(const struct relmap *m, uint32_t node)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (m->v[i].node == node)
			return &m->v[i];
	return NULL;
}

static const struct relinfo *by_oid(const struct relmap *m, uint32_t oid)
{
	for (size_t i = 0; m && i < m->n; i++)
		if (m->v[i].oid == oid)
			return &m->v[i];
	return NULL;
}

/* The live server: database names, and per database its user relations. */
struct live {
	bool tried, ok;
	PGresult *dbs;
	struct relmap *maps;
	size_t n_maps;
};

static const char *live_dbname(struct live *lv, uint32_t oid)
{
	if (!lv->dbs)
		return NULL;
	for (int i = 0; i < PQntuples(lv->dbs); i++)
		if ((uint32_t)strtoul(PQgetvalue(lv->dbs, i, 0), NULL, 10) == oid)
			return PQgetvalue(lv->dbs, i, 1);
	return NULL;
}

static const struct relmap *live_map(struct live *lv, const struct pgr_env *env, uint32_t db)
{
	if (!lv->tried) {
		lv->tried = true;
		struct pgr_error err = {0};
		PGconn *c = env->dsn ? pgr_pg_connect(env->dsn, NULL, 5, &err) : NULL;
		if (c && pgr_pg_exec(c, "SELECT oid, datname FROM pg_database", &lv->dbs, &err))
			lv->ok = true;
		else
			pgr_debug("walscan: live catalog unavailable: %s", err.msg);
		if (c)
			PQfinish(c);
	}
	for (size_t i = 0; i < lv->n_maps; i++)
		if (lv->maps[i].db == db)
			return lv->maps[i].ok ? &lv->maps[i] : NULL;
	lv->maps = xrealloc(lv->maps, (lv->n_maps + 1) * sizeof *lv->maps);
	struct relmap *m = &lv->maps[lv->n_maps++];
	memset(m, 0, sizeof *m);
	m->db = db;
	m->source = xstrdup("live");
	const char *dbname = live_dbname(lv, db);
	if (!lv->ok || !dbname)
		return NULL;
	struct pgr_error err = {0};
	PGconn *c = pgr_pg_connect(env->dsn, dbname, 5, &err);
	PGresult *r = NULL;
	if (c &&
	    pgr_pg_exec(c,
	                "SELECT c.oid, c.relfilenode, c.relkind, n.nspname || '.' || c.relname FROM pg_class c "
	                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid >= 16384 AND c.relfilenode <> 0",
	                &r, &err)) {
		for (int i = 0; i < PQntuples(r); i++)
			relmap_add(m, (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10),
			           (uint32_t)strtoul(PQgetvalue(r, i, 1), NULL, 10), PQgetvalue(r, i, 2)[0],
			           PQgetvalue(r, i, 3));
		m->ok = true;
		PQclear(r);
	} else {
		pgr_debug("walscan: cannot read pg_class of %s: %s", dbname, err.msg);
	}
	if (c)
		PQfinish(c);
	return m->ok ? m : NULL;
}

static void live_free(struct live *lv)
{
	if (lv->dbs)
		PQclear(lv->dbs);
	for (size_t i = 0; i < lv->n_maps; i++)
		relmap_free(&lv->maps[i]);
	free(lv->maps);
}

/* ---- a base backup's pg_class, read from its base.tar */

static uint64_t tar_octal(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	if (p[0] & 0x80) { /* base-256 */
		for (size_t i = 1; i < n; i++)
			v = (v << 8) | p[i];
		return v;
	}
	for (size_t i = 0; i < n && p[i]; i++)
		if (p[i] >= '0' && p[i] <= '7')
			v = v * 8 + (uint64_t)(p[i] - '0');
	return v;
}

/* Read the member named `want` (without a leading "./") into *data. */
static bool tar_member(FILE *f, const char *want, char **data, size_t *len)
{
	unsigned char h[512];
	rewind(f);
	while (fread(h, 1, 512, f) == 512) {
		if (!h[0])
			return false;
		char name[300];
		if (!memcmp(h + 257, "ustar", 5) && h[345])
			snprintf(name, sizeof name, "%.155s/%.100s", (const char *)h + 345, (const char *)h);
		else
			snprintf(name, sizeof name, "%.100s", (const char *)h);
		const char *nm = !strncmp(name, "./", 2) ? name + 2 : name;
		uint64_t size = tar_octal(h + 124, 12);
		uint64_t padded = (size + 511) / 512 * 512;
		if ((h[156] == '0' || h[156] == 0) && !strcmp(nm, want)) {
			if (size > (uint64_t)1 << 30)
				return false;
			*data = xmalloc(size + 1);
			*len = fread(*data, 1, size, f);
			return *len == size;
		}
		if (fseeko(f, (off_t)padded, SEEK_CUR) != 0)
			return false;
	}
	return false;
}

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Each heap tuple's data of a relation file: fn(ctx, data, len). */
static void heap_tuples(const char *file, size_t len, void (*fn)(void *, const unsigned char *, size_t), void *ctx)
{
	for (size_t off = 0; off + 8192 <= len; off += 8192) {
		const unsigned char *pg = (const unsigned char *)file + off;
		uint16_t lower, upper;
		memcpy(&lower, pg + 12, 2);
		memcpy(&upper, pg + 14, 2);
		if (lower < 24 || lower > 8192 || upper > 8192)
			continue;
		for (size_t lp = 24; lp + 4 <= lower; lp += 4) {
			uint32_t v = rd32(pg + lp);
			uint32_t t_off = v & 0x7fff, flags = (v >> 15) & 3, t_len = v >> 17;
			if (flags != 1 || t_off + t_len > 8192 || t_len < 24)
				continue;
			const unsigned char *tup = pg + t_off;
			uint8_t hoff = tup[22];
			if (hoff >= t_len)
				continue;
			fn(ctx, tup + hoff, t_len - hoff);
		}
	}
}

struct pgclass_row {
	uint32_t oid, ns, node;
	char kind;
	char name[65];
};

struct rows {
	struct pgclass_row *v;
	size_t n;
};

static void class_row(void *ctx, const unsigned char *d, size_t n)
{
	/* PostgreSQL 12-17 pg_class: oid@0 relname@4 relnamespace@68 ...
	 * relfilenode@88 ... relkind@115. */
	if (n < 116)
		return;
	struct rows *r = ctx;
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	struct pgclass_row *row = &r->v[r->n++];
	row->oid = rd32(d);
	memcpy(row->name, d + 4, 64);
	row->name[64] = '\0';
	row->ns = rd32(d + 68);
	row->node = rd32(d + 88);
	row->kind = (char)d[115];
}

static void ns_row(void *ctx, const unsigned char *d, size_t n)
{
	if (n < 68)
		return;
	struct rows *r = ctx;
	r->v = xrealloc(r->v, (r->n + 1) * sizeof *r->v);
	struct pgclass_row *row = &r->v[r->n++];
	memset(row, 0, sizeof *row);
	row->oid = rd32(d);
	memcpy(row->name, d + 4, 64);
	row->name[64] = '\0';
}

static bool base_map(struct pgr_store *st, const struct pgr_base *b, uint32_t db, const char *cache_dir,
                     struct relmap *m)
{
	memset(m, 0, sizeof *m);
	m->db = db;
	m->source = xasprintf("base backup %s", b->label);
	char *key = xasprintf("%sbase.tar", b->prefix);
	char *path = pgr_store_local_path(st, key);
	struct pgr_error err = {0};
	if (!path && b->size > BASE_FETCH_MAX) {
		pgr_debug("walscan: base backup %s is %llu bytes: not fetched only for its catalog", b->label,
		          (unsigned long long)b->size);
		free(key);
		return false;
	}
	if (!path) {
		path = xasprintf("%s/base-%s.tar", cache_dir, b->label);
		if (!pgr_path_exists(path)) {
			char *tmp = xasprintf("%s.part", path);
			if (!pgr_store_get(st, key, tmp, NULL, NULL, &err) || rename(tmp, path) != 0) {
				pgr_debug("walscan: cannot fetch %s: %s", key, err.msg);
				unlink(tmp);
				free(tmp);
				free(path);
				free(key);
				return false;
			}
			free(tmp);
		}
	}
	free(key);
	FILE *f = fopen(path, "rb");
	free(path);
	if (!f)
		return false;
	char *map = NULL, *cls = NULL, *nsp = NULL;
	size_t n_map = 0, n_cls = 0, n_nsp = 0;
	char want[64];
	uint32_t class_node = 1259;
	snprintf(want, sizeof want, "base/%u/pg_filenode.map", (unsigned)db);
	if (tar_member(f, want, &map, &n_map) && n_map >= 8 && rd32((unsigned char *)map) == 0x592717) {
		uint32_t nm = rd32((unsigned char *)map + 4);
		for (uint32_t i = 0; i < nm && 8 + (i + 1) * 8 <= n_map; i++)
			if (rd32((unsigned char *)map + 8 + i * 8) == 1259)
				class_node = rd32((unsigned char *)map + 12 + i * 8);
	}
	snprintf(want, sizeof want, "base/%u/%u", (unsigned)db, (unsigned)class_node);
	struct rows cr = {0}, nr = {0};
	if (tar_member(f, want, &cls, &n_cls)) {
		heap_tuples(cls, n_cls, class_row, &cr);
		uint32_t ns_node = 2615;
		for (size_t i = 0; i < cr.n; i++)
			if (cr.v[i].oid == 2615 && cr.v[i].node)
				ns_node = cr.v[i].node;
		snprintf(want, sizeof want, "base/%u/%u", (unsigned)db, (unsigned)ns_node);
		if (tar_member(f, want, &nsp, &n_nsp))
			heap_tuples(nsp, n_nsp, ns_row, &nr);
		for (size_t i = 0; i < cr.n; i++) {
			if (cr.v[i].oid < FIRST_USER_OID)
				continue;
			const char *ns = "?";
			for (size_t k = 0; k < nr.n; k++)
				if (nr.v[k].oid == cr.v[i].ns)
					ns = nr.v[k].name;
			char *full = xasprintf("%s.%s", ns, cr.v[i].name);
			relmap_add(m, cr.v[i].oid, cr.v[i].node, cr.v[i].kind, full);
			free(full);
		}
		m->ok = true;
	}
	fclose(f);
	free(map);
	free(cls);
	free(nsp);
	free(cr.v);
	free(nr.v);
	return m->ok;
}

struct resolver {
	const struct pgr_env *env;
	struct pgr_store *st;
	const struct pgr_catalog *cat;
	const char *cache_dir;
	struct live live;
	struct relmap *bases; /* cached per (label, db): source holds the label */
	size_t n_bases;
};

static const struct relmap *resolver_base(struct resolver *rv, const struct pgr_event *e, const struct pgr_base **used)
{
	const struct pgr_base *best = NULL;
	for (size_t i = 0; i < rv->cat->n_bases; i++) {
		const struct pgr_base *b = &rv->cat->bases[i];
		if (b->complete && b->manifest.stop_time <= e->time)
			best = b;
	}
	*used = best;
	if (!best)
		return NULL;
	char *src = xasprintf("base backup %s", best->label);
	for (size_t i = 0; i < rv->n_bases; i++) {
		if (rv->bases[i].db == e->db_oid && !strcmp(rv->bases[i].source, src)) {
			free(src);
			return rv->bases[i].ok ? &rv->bases[i] : NULL;
		}
	}
	free(src);
	rv->bases = xrealloc(rv->bases, (rv->n_bases + 1) * sizeof *rv->bases);
	struct relmap *m = &rv->bases[rv->n_bases++];
	base_map(rv->st, best, e->db_oid, rv->cache_dir, m);
	return m->ok ? m : NULL;
}

static void rel_set(struct pgr_event_rel *r, const struct relinfo *ri, const char *source)
{
	free(r->name);
	free(r->source);
	r->name = xstrdup(ri->name);
	r->source = xstrdup(source);
	r->relkind = ri->relkind;
}

/* Names, kinds confirmed, indexes and TOAST folded away. Returns false when
 * the event turns out to be nothing (a CREATE TABLE's new file). */
static bool resolve_event(struct resolver *rv, struct pgr_event *e)
{
	const struct relmap *live = rv->env ? live_map(&rv->live, rv->env, e->db_oid) : NULL;
	const char *dbn = live_dbname(&rv->live, e->db_oid);
	if (dbn)
		e->db_name = xstrdup(dbn);
	const struct pgr_base *bb = NULL;
	const struct relmap *base = NULL;
	bool base_tried = false;
	size_t keep = 0;
	for (size_t i = 0; i < e->n_rels; i++) {
		struct pgr_event_rel *r = &e->rels[i];
		const struct relinfo *ri = NULL;
		const char *src = NULL;
		if (e->kind == PGR_EVENT_DROP) {
			ri = by_oid(live, r->node); /* dropped: normally gone */
			src = "live";
			if (!ri) {
				if (!base_tried)
					base = resolver_base(rv, e, &bb), base_tried = true;
				ri = by_oid(base, r->node);
				if (!ri)
					ri = by_node(base, r->node);
				src = base ? base->source : NULL;
			}
		} else {
			ri = by_node(live, r->node);
			src = "live";
			if (!ri) {
				if (!base_tried)
					base = resolver_base(rv, e, &bb), base_tried = true;
				ri = by_node(base, r->node);
				src = base ? base->source : NULL;
			}
			/* A new file whose relation has that very oid is a new relation
			 * (CREATE TABLE in the same transaction), not a truncate. */
			if (ri && e->kind == PGR_EVENT_TRUNCATE && ri->oid == r->node)
				ri = NULL, r->relkind = '-';
		}
		if (ri)
			rel_set(r, ri, src);
		bool drop_it = r->relkind == '-' ||
		        (r->relkind && r->relkind != 'r' && r->relkind != 'm' && r->relkind != 'p' &&
		         r->relkind != 'f');
		if (drop_it) {
			free(r->name);
			free(r->source);
			continue;
		}
		if (!r->name)
			r->name = xasprintf("relfilenode %u (not in the live catalog%s)", (unsigned)r->node,
			                    bb ? " nor in the base backup's" : "");
		if ((e->kind == PGR_EVENT_DROP || e->kind == PGR_EVENT_TRUNCATE) && !base_tried)
			base = resolver_base(rv, e, &bb), base_tried = true;
		if ((e->kind == PGR_EVENT_DROP || e->kind == PGR_EVENT_TRUNCATE) && r->relkind && bb) {
			const char *dot = strchr(r->name, '.');
			if (dot) {
				char *schema = xstrndup(r->name, (size_t)(dot - r->name));
				r->rows = pgr_manifest_rows(&bb->manifest, schema, dot + 1);
				free(schema);
			}
		}
		e->rels[keep++] = *r;
	}
	e->n_rels = keep;
	if (!keep)
		return false;
	if (e->kind == PGR_EVENT_DROP || e->kind == PGR_EVENT_TRUNCATE) {
		int64_t sum = 0;
		for (size_t i = 0; i < e->n_rels; i++)
			sum = e->rels[i].rows < 0 || sum < 0 ? -1 : sum + e->rels[i].rows;
		e->rows = sum;
	} else if (e->kind == PGR_EVENT_MASS_DELETE || e->kind == PGR_EVENT_MASS_UPDATE) {
		int64_t sum = 0;
		for (size_t i = 0; i < e->n_rels; i++)
			sum += e->rels[i].rows;
		e->rows = sum;
	}
	return true;
}

static void resolver_free(struct resolver *rv)
{
	live_free(&rv->live);
	for (size_t i = 0; i < rv->n_bases; i++)
		relmap_free(&rv->bases[i]);
	free(rv->bases);
}

/* ------------------------------------------------------------ the scan */

void pgr_walscan_opts_default(struct pgr_walscan_opts *o)
{
	memset(o, 0, sizeof *o);
	o->min_rows = 1000;
}

struct run {
	uint32_t tli;
	size_t first, last; /* indexes into cat->wal */
};

static char *cache_dir_for(const struct pgr_walscan_opts *o, struct pgr_error *err)
{
	char *dir;
	if (o->cache_dir)
		dir = xstrdup(o->cache_dir);
	else {
		char *sd = pgr_state_dir();
		dir = xasprintf("%s/walcache", sd);
		free(sd);
	}
	if (!pgr_mkdir_p(dir, 0700, err)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* The directory pg_waldump reads the run's segments from: the store's own
 * (a file store) or the cache, filled with what is missing. */
static char *run_dir(struct pgr_store *st, const struct pgr_catalog *cat, const struct run *r, const char *cache,
                     const struct pgr_walscan_opts *o, size_t *done, size_t total, struct pgr_error *err)
{
	char *key = xasprintf("%s%s", PGR_PREFIX_WAL, cat->wal[r->first].name);
	char *lp = pgr_store_local_path(st, key);
	free(key);
	if (lp) {
		char *slash = strrchr(lp, '/');
		*slash = '\0';
		return lp;
	}
	for (size_t i = r->first; i <= r->last; i++) {
		if (o->cancel && *o->cancel) {
			pgr_error_set(err, PGR_ERR_USAGE, "the WAL scan was cancelled");
			return NULL;
		}
		const struct pgr_walseg *w = &cat->wal[i];
		char *path = xasprintf("%s/%s", cache, w->name);
		struct stat sbuf;
		if (stat(path, &sbuf) != 0 || (uint64_t)sbuf.st_size != w->size) {
			char *tmp = xasprintf("%s.part", path);
			key = xasprintf("%s%s", PGR_PREFIX_WAL, w->name);
			bool ok = pgr_store_get(st, key, tmp, NULL, NULL, err) && rename(tmp, path) == 0;
			if (!ok) {
				if (!pgr_error_isset(err))
					pgr_error_errno(err, errno, "cannot store %s in the WAL cache", path);
				unlink(tmp);
			}
			free(tmp);
			free(key);
			if (!ok) {
				free(path);
				return NULL;
			}
		}
		free(path);
		if (o->progress)
			o->progress(o->progress_ctx, *done, total, w->name);
	}
	return xstrdup(cache);
}

static bool scan_run(const struct pgr_env *env, const struct pgr_catalog *cat, const struct run *r, const char *dir,
                     const struct pgr_walscan_opts *o, struct pgr_waldump_parser *p, size_t *done, size_t total,
                     struct pgr_walscan_stats *stats, struct pgr_error *err)
{
	char *prog = pgr_waldump_path(env->pg_bindir);
	const char *argv[] = {prog,
	                      "-p",
	                      dir,
	                      "-r",
	                      "Heap",
	                      "-r",
	                      "Storage",
	                      "-r",
	                      "Transaction",
	                      cat->wal[r->first].name,
	                      cat->wal[r->last].name,
	                      NULL};
	struct pgr_proc_spec spec = {
	        .argv = argv, .env = pgr_waldump_env, .stdin_fd = -1, .out = PGR_IO_PIPE, .err = PGR_IO_PIPE};
	struct pgr_proc proc;
	if (!pgr_proc_start(&spec, &proc, err)) {
		pgr_error_hint(err, "pg_waldump comes with the PostgreSQL server; set pg_bindir in the environment.");
		free(prog);
		return false;
	}
#ifdef F_SETPIPE_SZ
	/* A bigger pipe: pg_waldump's small writes then rarely wait for us. */
	(void)fcntl(proc.out_fd, F_SETPIPE_SZ, 1 << 20);
#endif
	uint64_t seg_size = cat->wal_seg_size ? cat->wal_seg_size : 16u << 20;
	uint64_t seg0 = cat->wal[r->first].wn.segno;
	size_t base_done = *done;
	size_t bufsz = 1 << 20;
	char *buf = xmalloc(bufsz);
	size_t have = 0;
	uint64_t records = 0;
	bool cancelled = false;
	for (;;) {
		if (o->cancel && *o->cancel) {
			cancelled = true;
			kill(proc.pid, SIGTERM);
			break;
		}
		ssize_t n = read(proc.out_fd, buf + have, bufsz - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		/* A short read: pg_waldump is slower than us. Let the pipe fill
		 * rather than wake for every 4 KiB it writes (fewer context switches
		 * for both; it keeps writing into the 1 MiB pipe meanwhile). */
		bool short_read = (size_t)n < (1u << 18);
		char *s = buf, *end = buf + have;
		uint64_t last = 0;
		for (;;) {
			char *nl = memchr(s, '\n', (size_t)(end - s));
			if (!nl)
				break;
			uint64_t lsn = pgr_waldump_parser_line(p, s, (size_t)(nl - s));
			if (lsn) {
				records++;
				if (lsn > 1)
					last = lsn;
			}
			s = nl + 1;
		}
		have = (size_t)(end - s);
		memmove(buf, s, have);
		if (have == bufsz) { /* a line longer than the buffer: grow */
			bufsz *= 2;
			buf = xrealloc(buf, bufsz);
		}
		if (short_read)
			usleep(2000);
		if (last) {
			size_t d = base_done + (size_t)(last / seg_size - seg0);
			if (d > *done) {
				*done = d;
				if (o->progress)
					o->progress(o->progress_ctx, *done, total,
					            cat->wal[r->first + (d - base_done)].name);
			}
		}
	}
	free(buf);
	close(proc.out_fd);
	proc.out_fd = -1;
	struct pgr_proc_result res = {0};
	bool ran = pgr_proc_finish(&proc, 30, &res, err);
	bool ok = ran;
	if (cancelled) {
		pgr_error_set(err, PGR_ERR_USAGE, "the WAL scan was cancelled");
		ok = false;
	} else if (ran && res.exit_code != 0 && records == 0) {
		pgr_error_set(err, PGR_ERR_TOOL, "pg_waldump could not read %s to %s in %s", cat->wal[r->first].name,
		              cat->wal[r->last].name, dir);
		pgr_error_detail(err, "%s", sb_str(&res.err));
		ok = false;
	} else if (ran && res.exit_code != 0) {
		/* It ends with an error where the WAL ends (the record after the
		 * last one is not there): what came before counts. */
		pgr_debug("pg_waldump %s..%s: %s", cat->wal[r->first].name, cat->wal[r->last].name, sb_str(&res.err));
	}
	pgr_proc_result_free(&res);
	free(prog);
	*done = base_done + (r->last - r->first + 1);
	if (stats) {
		stats->segments += r->last - r->first + 1;
		for (size_t i = r->first; i <= r->last; i++)
			stats->bytes += cat->wal[i].size;
	}
	if (ok && o->progress)
		o->progress(o->progress_ctx, *done, total, cat->wal[r->last].name);
	return ok;
}

/* Contiguous runs of segments per timeline, archived in [since, until]
 * (plus two segments before, where the transaction's first rows may be). */
static size_t plan_runs(const struct pgr_catalog *cat, time_t since, time_t until, struct run **out)
{
	struct run *v = NULL;
	size_t n = 0;
	for (size_t i = 0; i < cat->n_wal;) {
		const struct pgr_walseg *w = &cat->wal[i];
		if (w->wn.kind != PGR_WAL_SEGMENT || (until && w->mtime > until + 3600)) {
			i++;
			continue;
		}
		/* The first segment archived at or after since, on this timeline. */
		bool want = w->mtime >= since;
		if (!want) {
			for (size_t k = i + 1; k < cat->n_wal && k <= i + 2; k++)
				if (cat->wal[k].wn.kind == PGR_WAL_SEGMENT && cat->wal[k].wn.tli == w->wn.tli &&
				    cat->wal[k].mtime >= since)
					want = true;
		}
		if (!want) {
			i++;
			continue;
		}
		size_t j = i;
		while (j + 1 < cat->n_wal && cat->wal[j + 1].wn.kind == PGR_WAL_SEGMENT &&
		       cat->wal[j + 1].wn.tli == w->wn.tli && cat->wal[j + 1].wn.segno == cat->wal[j].wn.segno + 1 &&
		       !(until && cat->wal[j].mtime > until))
			j++;
		v = xrealloc(v, (n + 1) * sizeof *v);
		v[n++] = (struct run){.tli = w->wn.tli, .first = i, .last = j};
		i = j + 1;
	}
	*out = v;
	return n;
}

/* The catalog with only its WAL segments (no .backup, .history, .partial):
 * a shallow copy, its wal array to be freed. */
static struct pgr_catalog segments_only(const struct pgr_catalog *cat)
{
	struct pgr_catalog sc = *cat;
	sc.wal = xcalloc(cat->n_wal + 1, sizeof *sc.wal);
	sc.n_wal = 0;
	for (size_t i = 0; i < cat->n_wal; i++)
		if (cat->wal[i].wn.kind == PGR_WAL_SEGMENT)
			sc.wal[sc.n_wal++] = cat->wal[i];
	return sc;
}

static int cmp_event(const void *a, const void *b)
{
	const struct pgr_event *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	if (x->usec != y->usec)
		return x->usec < y->usec ? -1 : 1;
	if (x->lsn != y->lsn)
		return x->lsn < y->lsn ? -1 : 1;
	return x->timeline < y->timeline ? -1 : x->timeline > y->timeline;
}

static bool scan(const struct pgr_env *env, struct pgr_store *st, const struct pgr_catalog *cat,
                 const struct pgr_walscan_opts *o, struct run *runs, size_t n_runs, struct pgr_event_list *raw,
                 struct pgr_walscan_stats *stats, char **cache_out, struct pgr_error *err)
{
	char *cache = cache_dir_for(o, err);
	if (!cache)
		return false;
	size_t total = 0, done = 0;
	for (size_t i = 0; i < n_runs; i++)
		total += runs[i].last - runs[i].first + 1;
	double t0 = pgr_monotonic();
	bool ok = true;
	for (size_t i = 0; i < n_runs && ok; i++) {
		char *dir = run_dir(st, cat, &runs[i], cache, o, &done, total, err);
		if (!dir) {
			ok = false;
			break;
		}
		struct pgr_waldump_parser *p = pgr_waldump_parser_new(runs[i].tli, o->min_rows);
		ok = scan_run(env, cat, &runs[i], dir, o, p, &done, total, stats, err);
		pgr_waldump_parser_take(p, raw);
		pgr_waldump_parser_free(p);
		free(dir);
	}
	if (stats)
		stats->seconds = pgr_monotonic() - t0;
	*cache_out = cache;
	return ok;
}

bool pgr_walscan_events(const struct pgr_env *env, struct pgr_store *st, const struct pgr_catalog *cat,
                        const struct pgr_walscan_opts *o, struct pgr_event_list *out, struct pgr_walscan_stats *stats,
                        struct pgr_error *err)
{
	memset(out, 0, sizeof *out);
	if (stats)
		memset(stats, 0, sizeof *stats);
	struct run *runs = NULL;
	struct pgr_catalog sc = segments_only(cat);
	size_t n_runs = plan_runs(&sc, o->since, o->until, &runs);
	struct pgr_event_list raw = {0};
	char *cache = NULL;
	bool ok = scan(env, st, &sc, o, runs, n_runs, &raw, stats, &cache, err);
	free(sc.wal);
	free(runs);
	if (!ok) {
		pgr_event_list_free(&raw);
		free(cache);
		return false;
	}
	struct resolver rv = {.env = o->no_resolve ? NULL : env, .st = st, .cat = cat, .cache_dir = cache};
	for (size_t i = 0; i < raw.n; i++) {
		struct pgr_event *e = &raw.v[i];
		bool in = e->time >= o->since && (!o->until || e->time <= o->until);
		if (in && (o->no_resolve || resolve_event(&rv, e))) {
			*list_add(out) = *e;
			memset(e, 0, sizeof *e);
		} else {
			pgr_event_free(e);
		}
	}
	free(raw.v);
	resolver_free(&rv);
	free(cache);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, cmp_event);
	/* A newer timeline's first segment repeats the older one's records up to
	 * the switch: the same commit is listed once, on the older timeline. */
	size_t keep = 0;
	for (size_t i = 0; i < out->n; i++) {
		bool dup = false;
		for (size_t k = 0; k < keep && !dup; k++)
			dup = out->v[k].lsn == out->v[i].lsn && out->v[k].xid == out->v[i].xid &&
			        out->v[k].kind == out->v[i].kind;
		if (dup)
			pgr_event_free(&out->v[i]);
		else
			out->v[keep++] = out->v[i];
	}
	out->n = keep;
	return true;
}

static bool event_in(const struct pgr_env *env, struct pgr_store *st, const struct pgr_catalog *cat,
                     const struct pgr_catalog *full, const char *id, unsigned tli, uint64_t lsn, struct pgr_event *out,
                     struct pgr_error *err);

bool pgr_walscan_event_by_id(const struct pgr_env *env, struct pgr_store *st, const struct pgr_catalog *cat,
                             const char *id, struct pgr_event *out, struct pgr_error *err)
{
	memset(out, 0, sizeof *out);
	unsigned tli = 0;
	char lsn_s[40] = "";
	uint64_t lsn = 0;
	if (sscanf(id, "%u-%39[0-9A-Fa-f/]", &tli, lsn_s) != 2 || !pgr_lsn_parse(lsn_s, &lsn)) {
		pgr_error_set(err, PGR_ERR_USAGE, "\"%s\" is not an event id", id);
		pgr_error_hint(err, "An event id is TIMELINE-LSN such as 1-0/3000148, as `pgrescue events` lists it.");
		return false;
	}
	struct pgr_catalog sc = segments_only(cat);
	bool ok = event_in(env, st, &sc, cat, id, tli, lsn, out, err);
	free(sc.wal);
	return ok;
}

static bool event_in(const struct pgr_env *env, struct pgr_store *st, const struct pgr_catalog *cat,
                     const struct pgr_catalog *full, const char *id, unsigned tli, uint64_t lsn, struct pgr_event *out,
                     struct pgr_error *err)
{
	uint64_t seg_size = cat->wal_seg_size ? cat->wal_seg_size : 16u << 20;
	uint64_t segno = lsn / seg_size;
	/* The commit's segment, and the two before it (the transaction's rows). */
	size_t at = cat->n_wal;
	for (size_t i = 0; i < cat->n_wal; i++)
		if (cat->wal[i].wn.kind == PGR_WAL_SEGMENT && cat->wal[i].wn.tli == tli &&
		    cat->wal[i].wn.segno == segno)
			at = i;
	if (at == cat->n_wal) {
		char name[32];
		pgr_walname_format(tli, segno, seg_size, name);
		pgr_error_set(err, PGR_ERR_NOTFOUND, "event %s: WAL segment %s is not in the archive", id, name);
		pgr_error_hint(err, "List the events the archive holds with `pgrescue events --since TIME`.");
		return false;
	}
	struct run r = {.tli = tli, .first = at, .last = at};
	while (r.first > 0 && at - r.first < 2 && cat->wal[r.first - 1].wn.tli == tli &&
	       cat->wal[r.first - 1].wn.segno + 1 == cat->wal[r.first].wn.segno)
		r.first--;
	struct pgr_walscan_opts o;
	pgr_walscan_opts_default(&o);
	struct pgr_event_list raw = {0};
	char *cache = NULL;
	bool ok = scan(env, st, cat, &o, &r, 1, &raw, NULL, &cache, err);
	bool found = false;
	struct resolver rv = {.env = env, .st = st, .cat = full, .cache_dir = cache};
	for (size_t i = 0; ok && i < raw.n; i++) {
		struct pgr_event *e = &raw.v[i];
		if (!found && !strcmp(e->id, id)) {
			resolve_event(&rv, e);
			*out = *e;
			memset(e, 0, sizeof *e);
			found = true;
		}
		pgr_event_free(e);
	}
	free(raw.v);
	resolver_free(&rv);
	free(cache);
	if (ok && !found) {
		pgr_error_set(err, PGR_ERR_NOTFOUND, "no destructive event %s in the archived WAL", id);
		pgr_error_hint(err, "List the events with `pgrescue events --since TIME`; ids are TIMELINE-LSN.");
		return false;
	}
	return ok;
}
