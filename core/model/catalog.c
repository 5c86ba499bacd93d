/* The catalog: a listing of the store turned into dumps, base backups and WAL,
 * and the recoverable window those allow. pgr_catalog_build() only fetches;
 * pgr_catalog_from_listing() does all the understanding, so unit tests and the
 * dashboard's caches share the one implementation. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "model/catalog.h"

#define DEFAULT_SEG_SIZE ((uint64_t)16 * 1024 * 1024)
/* manifest.status of a base backup whose pgrescue.json exists but cannot be read. */
#define PGR_CATALOG_UNREADABLE "unreadable"

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool valid_seg_size(uint64_t v)
{
	/* PostgreSQL accepts powers of two from 1 MB to 1 GB. */
	return v >= 1024 * 1024 && v <= 1024 * 1024 * 1024 && (v & (v - 1)) == 0;
}

/* ------------------------------------------------------------ building */

/* A base backup while it is being assembled: its sort time travels beside it. */
struct base_build {
	struct pgr_base b;
	time_t sort_time;
	time_t min_mtime;
	bool have_mtime;
	const char *manifest_json; /* borrowed */
	const char *manifest_source;
};

struct dump_build {
	struct pgr_dump d;
	const char *manifest_json; /* borrowed */
	const char *manifest_source;
};

static int cmp_dump(const void *a, const void *b)
{
	const struct pgr_dump *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int cmp_base_build(const void *a, const void *b)
{
	const struct base_build *x = a, *y = b;
	if (x->sort_time != y->sort_time)
		return x->sort_time < y->sort_time ? -1 : 1;
	return strcmp(x->b.label, y->b.label);
}

static int cmp_wal(const void *a, const void *b)
{
	const struct pgr_walseg *x = a, *y = b;
	return strcmp(x->name, y->name);
}

/* The label of a base backup from a key "base/<label>/...", newly allocated;
 * NULL when the key is not inside a base backup directory. */
static char *base_label_of(const char *key)
{
	if (!has_prefix(key, PGR_PREFIX_BASE))
		return NULL;
	const char *l = key + strlen(PGR_PREFIX_BASE);
	const char *slash = strchr(l, '/');
	if (!slash || slash == l || slash[1] == '\0')
		return NULL;
	return xstrndup(l, (size_t)(slash - l));
}

static bool dump_name_known(const char *key)
{
	const char *name = key + strlen(PGR_PREFIX_DUMPS);
	if (strchr(name, '/'))
		return false;
	return has_prefix(name, "postgres-backup-") || has_prefix(name, "clipper-backup-");
}

static struct base_build *find_base(struct base_build *v, size_t n, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].b.label, label))
			return &v[i];
	return NULL;
}

/* Which backup a manifest entry belongs to. An entry's name is either a base
 * label ("20260102-020000"), the manifest's own store key
 * ("base/<label>/pgrescue.json"), or a dump manifest key
 * ("pgrescue/dumps/<dump file name>.json"). */
static void attach_manifest(struct base_build *bases, size_t n_bases, struct dump_build *dumps, size_t n_dumps,
                            const char *name, const char *json)
{
	if (has_prefix(name, PGR_PREFIX_DUMP_MANIFESTS)) {
		for (size_t i = 0; i < n_dumps; i++) {
			char *mk = pgr_dump_manifest_key(dumps[i].d.key);
			bool match = mk && !strcmp(mk, name);
			free(mk);
			if (match) {
				dumps[i].manifest_json = json;
				dumps[i].manifest_source = name;
				dumps[i].d.has_manifest = true;
				return;
			}
		}
		return;
	}
	char *label = base_label_of(name);
	struct base_build *b = find_base(bases, n_bases, label ? label : name);
	free(label);
	if (b) {
		b->manifest_json = json;
		b->manifest_source = name;
	}
}

static void fill_base_from_manifest(struct base_build *bb)
{
	struct pgr_base *b = &bb->b;
	if (!bb->manifest_json)
		return;
	struct pgr_error err = {0};
	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_BASE);
	if (!pgr_manifest_from_json(bb->manifest_json, bb->manifest_source, &m, &err)) {
		pgr_manifest_free(&m);
		pgr_warn("base backup %s: its manifest cannot be read, so it counts as incomplete: %s", b->label,
		         err.msg);
		/* Not "failed": it may be a newer pgrescue's format, and retention must not
		 * take it for a failed run's leftovers. */
		b->manifest.status = xstrdup(PGR_CATALOG_UNREADABLE);
		return;
	}
	pgr_manifest_free(&b->manifest);
	b->manifest = m;
	b->complete = m.status && !strcmp(m.status, "complete");
	if (b->complete && m.start_wal)
		b->keys_first_wal = xstrdup(m.start_wal);
}

static void fill_dump_from_manifest(struct dump_build *db, uint64_t *seg_size)
{
	struct pgr_dump *d = &db->d;
	if (!d->has_manifest) {
		/* Written by the deployment's own job: all we can check is that it is not empty. */
		d->good = d->size > 0;
		return;
	}
	d->good = false;
	if (!db->manifest_json)
		return;
	struct pgr_error err = {0};
	struct pgr_manifest m;
	pgr_manifest_init(&m, PGR_BACKUP_DUMP);
	if (!pgr_manifest_from_json(db->manifest_json, db->manifest_source, &m, &err)) {
		pgr_manifest_free(&m);
		pgr_warn("dump %s: its manifest cannot be read, so it does not count as good: %s", d->key, err.msg);
		return;
	}
	d->good = m.status && !strcmp(m.status, "complete") && d->size > 0;
	if (!*seg_size && valid_seg_size(m.wal_segment_size))
		*seg_size = m.wal_segment_size;
	pgr_manifest_free(&m);
}

/* Without a manifest, archived segments are whole segments: the size most of
 * them share (a majority vote, one pass plus a check) is the segment size. */
static uint64_t seg_size_from_objects(const struct pgr_walseg *wal, size_t n)
{
	uint64_t cand = 0;
	size_t votes = 0, total = 0, agree = 0;
	for (size_t i = 0; i < n; i++) {
		if (wal[i].wn.kind != PGR_WAL_SEGMENT)
			continue;
		total++;
		if (votes == 0) {
			cand = wal[i].size;
			votes = 1;
		} else if (wal[i].size == cand) {
			votes++;
		} else {
			votes--;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (wal[i].wn.kind == PGR_WAL_SEGMENT && wal[i].size == cand)
			agree++;
	return agree * 2 > total && valid_seg_size(cand) ? cand : 0;
}

bool pgr_catalog_from_listing(const struct pgr_object_list *objects, const char *const *manifest_labels,
                              const char *const *manifest_json, size_t n_manifests, struct pgr_catalog *cat,
                              struct pgr_error *err)
{
	(void)err; /* nothing in a listing is fatal: what cannot be understood is reported and left out */
	memset(cat, 0, sizeof(*cat));
	size_t n_obj = objects ? objects->n : 0;

	struct dump_build *dumps = xcalloc(n_obj + 1, sizeof(*dumps));
	struct base_build *bases = xcalloc(n_obj + 1, sizeof(*bases));
	size_t n_dumps = 0, n_bases = 0;
	cat->wal = xcalloc(n_obj + 1, sizeof(*cat->wal));

	for (size_t i = 0; i < n_obj; i++) {
		const struct pgr_object *o = &objects->items[i];
		cat->total_bytes += o->size;
		if (has_prefix(o->key, PGR_PREFIX_DUMPS)) {
			if (!dump_name_known(o->key))
				continue;
			struct pgr_dump *d = &dumps[n_dumps++].d;
			d->key = xstrdup(o->key);
			d->size = o->size;
			if (!pgr_dump_key_parse(o->key, &d->time))
				d->time = o->mtime;
		} else if (has_prefix(o->key, PGR_PREFIX_BASE)) {
			char *label = base_label_of(o->key);
			if (!label)
				continue;
			struct base_build *bb = find_base(bases, n_bases, label);
			if (!bb) {
				bb = &bases[n_bases++];
				bb->b.label = label;
				bb->b.prefix = xasprintf("%s%s/", PGR_PREFIX_BASE, label);
				pgr_manifest_init(&bb->b.manifest, PGR_BACKUP_BASE);
			} else {
				free(label);
			}
			bb->b.size += o->size;
			if (!bb->have_mtime || o->mtime < bb->min_mtime)
				bb->min_mtime = o->mtime;
			bb->have_mtime = true;
		} else if (has_prefix(o->key, PGR_PREFIX_WAL)) {
			const char *name = o->key + strlen(PGR_PREFIX_WAL);
			struct pgr_walname wn;
			if (strchr(name, '/') || !pgr_walname_parse(name, &wn))
				continue;
			struct pgr_walseg *w = &cat->wal[cat->n_wal++];
			w->name = xstrdup(name);
			w->wn = wn;
			w->size = o->size;
			w->mtime = o->mtime;
		}
	}

	for (size_t i = 0; i < n_manifests; i++)
		if (manifest_labels[i] && manifest_json[i])
			attach_manifest(bases, n_bases, dumps, n_dumps, manifest_labels[i], manifest_json[i]);
	/* A dump manifest in the listing whose text was not given still means
	 * "pgrescue wrote this dump": without its status it is not good. */
	const char **dump_manifest_keys = xcalloc(n_obj + 1, sizeof(*dump_manifest_keys));
	size_t n_dmk = 0;
	for (size_t j = 0; j < n_obj; j++)
		if (has_prefix(objects->items[j].key, PGR_PREFIX_DUMP_MANIFESTS))
			dump_manifest_keys[n_dmk++] = objects->items[j].key;
	for (size_t i = 0; i < n_dumps && n_dmk > 0; i++) {
		if (dumps[i].d.has_manifest)
			continue;
		char *mk = pgr_dump_manifest_key(dumps[i].d.key);
		for (size_t j = 0; mk && j < n_dmk; j++)
			if (!strcmp(dump_manifest_keys[j], mk))
				dumps[i].d.has_manifest = true;
		free(mk);
	}
	free(dump_manifest_keys);

	uint64_t seg_size = 0;
	for (size_t i = 0; i < n_bases; i++) {
		struct base_build *bb = &bases[i];
		fill_base_from_manifest(bb);
		if (bb->b.complete && valid_seg_size(bb->b.manifest.wal_segment_size))
			seg_size = bb->b.manifest.wal_segment_size;
		if (!pgr_label_parse(bb->b.label, &bb->sort_time))
			bb->sort_time = bb->b.complete ? bb->b.manifest.start_time : bb->min_mtime;
	}
	for (size_t i = 0; i < n_dumps; i++)
		fill_dump_from_manifest(&dumps[i], &seg_size);
	if (!seg_size)
		seg_size = seg_size_from_objects(cat->wal, cat->n_wal);
	cat->wal_seg_size = seg_size ? seg_size : DEFAULT_SEG_SIZE;

	/* Segment numbers depend on the segment size, known only now. */
	for (size_t i = 0; i < cat->n_wal; i++) {
		struct pgr_walname *wn = &cat->wal[i].wn;
		wn->segno = wn->kind == PGR_WAL_HISTORY ? 0 : pgr_wal_segno(wn->log, wn->seg, cat->wal_seg_size);
	}
	qsort(cat->wal, cat->n_wal, sizeof(*cat->wal), cmp_wal);

	qsort(bases, n_bases, sizeof(*bases), cmp_base_build);
	cat->n_bases = n_bases;
	cat->bases = xcalloc(n_bases + 1, sizeof(*cat->bases));
	for (size_t i = 0; i < n_bases; i++)
		cat->bases[i] = bases[i].b;
	free(bases);

	cat->n_dumps = n_dumps;
	cat->dumps = xcalloc(n_dumps + 1, sizeof(*cat->dumps));
	for (size_t i = 0; i < n_dumps; i++)
		cat->dumps[i] = dumps[i].d;
	free(dumps);
	qsort(cat->dumps, cat->n_dumps, sizeof(*cat->dumps), cmp_dump);
	return true;
}

static void list_append(struct pgr_object_list *dst, const struct pgr_object_list *src)
{
	for (size_t i = 0; i < src->n; i++)
		pgr_object_list_add(dst, src->items[i].key, src->items[i].size, src->items[i].mtime);
}

/* Fetch one small object as text. *text is NULL (and true returned) when it
 * vanished since the listing, e.g. removed by a concurrent retention run. */
/* Manifests are small: read them straight into memory (no temporary file,
 * no fsync), one byte more than listed so a grown object is noticed. */
#define MANIFEST_MAX_BYTES (64u << 20)
static bool fetch_text(struct pgr_store *st, const char *key, uint64_t listed_size, char **text, struct pgr_error *err)
{
	*text = NULL;
	if (listed_size > MANIFEST_MAX_BYTES) {
		pgr_error_set(err, PGR_ERR_STORE, "the manifest %s is %llu bytes, more than a manifest can be", key,
		              (unsigned long long)listed_size);
		pgr_error_hint(err, "Something other than pgrescue wrote it; move it out of the store.");
		return false;
	}
	size_t cap = (size_t)listed_size + 1;
	char *buf = xmalloc(cap + 1);
	size_t got = 0;
	if (!pgr_store_get_head(st, key, buf, cap, &got, err)) {
		free(buf);
		if (err && err->kind == PGR_ERR_NOTFOUND) {
			pgr_error_clear(err); /* deleted since the listing: not a manifest any more */
			return true;
		}
		pgr_error_prefix(err, "reading the manifest %s", key);
		return false;
	}
	buf[got] = '\0';
	*text = buf;
	return true;
}

bool pgr_catalog_build(struct pgr_store *st, struct pgr_catalog *cat, struct pgr_error *err)
{
	static const char *const prefixes[] = {PGR_PREFIX_DUMPS, PGR_PREFIX_BASE, PGR_PREFIX_WAL,
	                                       PGR_PREFIX_DUMP_MANIFESTS};
	memset(cat, 0, sizeof(*cat));
	struct pgr_object_list all = {0};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		struct pgr_object_list part = {0};
		if (!pgr_store_list(st, prefixes[i], &part, err)) {
			pgr_object_list_free(&part);
			pgr_object_list_free(&all);
			pgr_error_prefix(err, "listing %s in %s", prefixes[i], st->url ? st->url : "the store");
			return false;
		}
		list_append(&all, &part);
		pgr_object_list_free(&part);
	}

	char **names = xcalloc(all.n + 1, sizeof(*names));
	char **texts = xcalloc(all.n + 1, sizeof(*texts));
	size_t n = 0;
	bool ok = true;
	for (size_t i = 0; ok && i < all.n; i++) {
		const char *key = all.items[i].key;
		bool is_base_manifest = false;
		char *label = base_label_of(key);
		if (label) {
			char *mk = xasprintf("%s%s/%s", PGR_PREFIX_BASE, label, PGR_BASE_MANIFEST);
			is_base_manifest = !strcmp(mk, key);
			free(mk);
			free(label);
		}
		if (!is_base_manifest && !has_prefix(key, PGR_PREFIX_DUMP_MANIFESTS))
			continue;
		char *text;
		/* A store error here must fail the catalog: retention would otherwise
		 * take a good backup whose manifest it could not read for a failed one. */
		ok = fetch_text(st, key, all.items[i].size, &text, err);
		if (ok && text) {
			names[n] = xstrdup(key);
			texts[n] = text;
			n++;
		}
	}
	if (ok)
		ok = pgr_catalog_from_listing(&all, (const char *const *)names, (const char *const *)texts, n, cat,
		                              err);
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(texts[i]);
	}
	free(names);
	free(texts);
	pgr_object_list_free(&all);
	return ok;
}

void pgr_catalog_free(struct pgr_catalog *cat)
{
	if (!cat)
		return;
	for (size_t i = 0; i < cat->n_dumps; i++)
		free(cat->dumps[i].key);
	free(cat->dumps);
	for (size_t i = 0; i < cat->n_bases; i++) {
		struct pgr_base *b = &cat->bases[i];
		free(b->label);
		free(b->prefix);
		free(b->keys_first_wal);
		pgr_manifest_free(&b->manifest);
	}
	free(cat->bases);
	for (size_t i = 0; i < cat->n_wal; i++)
		free(cat->wal[i].name);
	free(cat->wal);
	memset(cat, 0, sizeof(*cat));
}

const struct pgr_dump *pgr_catalog_newest_dump(const struct pgr_catalog *cat)
{
	for (size_t i = cat->n_dumps; i > 0; i--)
		if (cat->dumps[i - 1].good)
			return &cat->dumps[i - 1];
	return NULL;
}

const struct pgr_base *pgr_catalog_newest_base(const struct pgr_catalog *cat)
{
	for (size_t i = cat->n_bases; i > 0; i--)
		if (cat->bases[i - 1].complete)
			return &cat->bases[i - 1];
	return NULL;
}

/* ------------------------------------------------------------ the window */

/* A WAL position in recovery order: timeline first, then segment number. */
struct walpos {
	uint32_t tli;
	uint64_t segno;
};

static int cmp_pos(const void *a, const void *b)
{
	const struct walpos *x = a, *y = b;
	if (x->tli != y->tli)
		return x->tli < y->tli ? -1 : 1;
	if (x->segno != y->segno)
		return x->segno < y->segno ? -1 : 1;
	return 0;
}

struct segset {
	struct walpos *v; /* archived whole segments, sorted */
	size_t n;
	const struct pgr_catalog *cat;
	size_t *run_end; /* run_end[i]: index of the last segment contiguous with v[i] */
	uint32_t limit_tli; /* 0: follow timeline switches to the newest; else stop at this one */
};

static long seg_find(const struct segset *s, uint32_t tli, uint64_t segno)
{
	struct walpos key = {tli, segno};
	struct walpos *hit = bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_pos);
	return hit ? (long)(hit - s->v) : -1;
}

/* cat->wal is sorted by name: look the history file up, do not scan. */
static bool history_exists(const struct pgr_catalog *cat, uint32_t tli)
{
	struct pgr_walseg key = {0};
	char name[32];
	snprintf(name, sizeof name, "%08X.history", tli);
	key.name = name;
	const struct pgr_walseg *hit = bsearch(&key, cat->wal, cat->n_wal, sizeof(*cat->wal), cmp_wal);
	return hit && hit->wn.kind == PGR_WAL_HISTORY;
}

/* Lowest archived segment on a timeline (s->v is sorted by timeline, then
 * segment); false when it has none. */
static bool first_seg_on(const struct segset *s, uint32_t tli, uint64_t *segno)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid].tli < tli)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n && s->v[lo].tli == tli) {
		*segno = s->v[lo].segno;
		return true;
	}
	return false;
}

/* How far WAL replays without a hole, starting at `from` (which must be
 * archived). At the end of a timeline the next timeline continues the run when
 * its .history file is archived and its first segment starts at or before the
 * segment after the end and not before `branch_min` (a timeline that branched
 * off before the base backup's consistent point is a different history).
 * The contents of .history files are not read: a switch straight to a
 * timeline other than the next one ends the run, which understates the window
 * rather than overstating it. */
static struct walpos follow_run(const struct segset *s, struct walpos from, uint64_t branch_min)
{
	struct walpos end = from;
	long i = seg_find(s, from.tli, from.segno);
	for (;;) {
		/* Precomputed, so each base backup costs O(1) here, not the run's length. */
		if (i >= 0 && s->v[i].segno == end.segno) {
			i = (long)s->run_end[i];
			end.segno = s->v[i].segno;
		}
		uint64_t f;
		uint32_t next = end.tli + 1;
		if (s->limit_tli && next > s->limit_tli)
			return end;
		if (!history_exists(s->cat, next) || !first_seg_on(s, next, &f))
			return end;
		if (f > end.segno + 1 || f < branch_min)
			return end;
		end.tli = next;
		end.segno = f;
		branch_min = f;
		i = seg_find(s, next, f);
	}
}

static bool wal_pos_of(const struct pgr_catalog *cat, const char *name, struct walpos *p)
{
	struct pgr_walname wn;
	if (!name || !pgr_walname_parse(name, &wn) || wn.kind != PGR_WAL_SEGMENT)
		return false;
	p->tli = wn.tli;
	p->segno = pgr_wal_segno(wn.log, wn.seg, cat->wal_seg_size);
	return true;
}

static char *walpos_name(const struct pgr_catalog *cat, struct walpos p)
{
	char buf[32];
	pgr_walname_format(p.tli, p.segno, cat->wal_seg_size, buf);
	return xstrdup(buf);
}

/* Is every segment from the base backup's start to its stop archived? On
 * false, *missing is the first absent one. */
static bool base_usable(const struct segset *s, const struct pgr_base *b, struct walpos *start, struct walpos *stop,
                        struct walpos *missing)
{
	if (!wal_pos_of(s->cat, b->manifest.start_wal, start) || !wal_pos_of(s->cat, b->manifest.stop_wal, stop) ||
	    start->tli != stop->tli || stop->segno < start->segno) {
		missing->tli = 0; /* the manifest itself is at fault */
		return false;
	}
	for (uint64_t g = start->segno; g <= stop->segno; g++) {
		if (seg_find(s, start->tli, g) < 0) {
			missing->tli = start->tli;
			missing->segno = g;
			return false;
		}
	}
	return true;
}

/* latest is the modification time of the last continuously archived segment:
 * the segment was closed at about that time, so it approximates the last
 * recoverable commit until the dashboard reads commit times from the WAL. */
/* The window ending on timeline limit_tli (0: the newest reachable one). */
static void window_for(const struct pgr_catalog *cat, struct pgr_window *w, uint32_t limit_tli)
{
	memset(w, 0, sizeof(*w));
	if (cat->n_bases == 0) {
		w->why_not = xstrdup("no base backup in the store: WAL replays only onto a physical base backup, "
		                     "never onto a logical dump");
		return;
	}
	const struct pgr_base *newest = pgr_catalog_newest_base(cat);
	if (!newest) {
		w->why_not = xasprintf("no complete base backup: %zu base backup%s in the store, none with a "
		                       "complete %s (in progress or failed)",
		                       cat->n_bases, cat->n_bases == 1 ? "" : "s", PGR_BASE_MANIFEST);
		return;
	}

	struct segset s = {xcalloc(cat->n_wal + 1, sizeof(struct walpos)), 0, cat, NULL, limit_tli};
	for (size_t i = 0; i < cat->n_wal; i++)
		if (cat->wal[i].wn.kind == PGR_WAL_SEGMENT) {
			s.v[s.n].tli = cat->wal[i].wn.tli;
			s.v[s.n].segno = cat->wal[i].wn.segno;
			s.n++;
		}
	qsort(s.v, s.n, sizeof(*s.v), cmp_pos);
	s.run_end = xcalloc(s.n + 1, sizeof(*s.run_end));
	for (size_t i = s.n; i-- > 0;)
		s.run_end[i] = i + 1 < s.n && s.v[i + 1].tli == s.v[i].tli && s.v[i + 1].segno == s.v[i].segno + 1
		        ? s.run_end[i + 1]
		        : i;

	/* The newest timeline with a complete base backup. */
	uint32_t top_tli = 0;
	for (size_t i = 0; i < cat->n_bases; i++)
		if (cat->bases[i].complete && cat->bases[i].manifest.timeline > top_tli &&
		    (!limit_tli || cat->bases[i].manifest.timeline <= limit_tli))
			top_tli = cat->bases[i].manifest.timeline;
	/* A given timeline: the run must end on it, whatever timeline the base is on. */
	if (limit_tli)
		top_tli = limit_tli;

	/* The newest usable base backup, preferring the newest timeline's; an
	 * older timeline's base still counts when its WAL runs onto that timeline. */
	long use = -1;
	struct walpos use_end = {0, 0};
	const struct pgr_base *first_bad = NULL;
	struct walpos first_bad_missing = {0, 0};
	for (size_t i = cat->n_bases; i > 0 && use < 0; i--) {
		const struct pgr_base *b = &cat->bases[i - 1];
		if (!b->complete || (limit_tli && b->manifest.timeline > limit_tli))
			continue;
		struct walpos start, stop, missing;
		if (!base_usable(&s, b, &start, &stop, &missing)) {
			if (!first_bad) {
				first_bad = b;
				first_bad_missing = missing;
			}
			continue;
		}
		struct walpos end = follow_run(&s, start, stop.segno);
		if (end.tli < top_tli && b->manifest.timeline < top_tli)
			continue; /* does not reach the newest timeline */
		if (limit_tli && end.tli != limit_tli)
			continue; /* ends on another timeline than the one asked for */
		use = (long)(i - 1);
		use_end = end;
	}
	if (use < 0) {
		if (first_bad && first_bad_missing.tli) {
			char *miss = walpos_name(cat, first_bad_missing);
			w->why_not = xasprintf("base backup %s cannot be restored: WAL segment %s, which it needs "
			                       "between its start %s and its stop %s, is not archived",
			                       first_bad->label, miss, first_bad->manifest.start_wal,
			                       first_bad->manifest.stop_wal);
			free(miss);
		} else if (first_bad) {
			w->why_not = xasprintf("base backup %s names no valid start and stop WAL segment in its "
			                       "manifest",
			                       first_bad->label);
		} else {
			w->why_not = xasprintf("no complete base backup has WAL continuous to timeline %u", top_tli);
		}
		free(s.v);
		free(s.run_end);
		return;
	}

	/* Extend back through older usable base backups whose WAL runs to the same end. */
	size_t earliest = (size_t)use;
	for (size_t i = (size_t)use; i > 0; i--) {
		const struct pgr_base *b = &cat->bases[i - 1];
		if (!b->complete)
			continue;
		struct walpos start, stop, missing;
		if (!base_usable(&s, b, &start, &stop, &missing))
			continue;
		struct walpos end = follow_run(&s, start, stop.segno);
		if (cmp_pos(&end, &use_end) == 0)
			earliest = i - 1;
	}

	w->exists = true;
	w->timeline = use_end.tli;
	w->earliest = cat->bases[earliest].manifest.stop_time;
	w->earliest_base = xstrdup(cat->bases[earliest].label);
	w->last_wal = walpos_name(cat, use_end);
	for (size_t i = 0; i < cat->n_wal; i++)
		if (cat->wal[i].wn.kind == PGR_WAL_SEGMENT && !strcmp(cat->wal[i].name, w->last_wal))
			w->latest = cat->wal[i].mtime;

	/* A hole: later WAL exists, on this timeline or the next, after a missing segment. */
	bool later = false;
	for (size_t i = 0; i < s.n && !later; i++)
		if ((s.v[i].tli == use_end.tli && s.v[i].segno > use_end.segno + 1) ||
		    (!limit_tli && s.v[i].tli == use_end.tli + 1 && s.v[i].segno > use_end.segno + 1))
			later = true;
	if (later) {
		struct walpos gap = {use_end.tli, use_end.segno + 1};
		w->gap_after = walpos_name(cat, gap);
	}
	free(s.v);
	free(s.run_end);
}

static void segset_build(const struct pgr_catalog *cat, struct segset *s)
{
	memset(s, 0, sizeof(*s));
	s->cat = cat;
	s->v = xcalloc(cat->n_wal + 1, sizeof(struct walpos));
	for (size_t i = 0; i < cat->n_wal; i++)
		if (cat->wal[i].wn.kind == PGR_WAL_SEGMENT) {
			s->v[s->n].tli = cat->wal[i].wn.tli;
			s->v[s->n].segno = cat->wal[i].wn.segno;
			s->n++;
		}
	qsort(s->v, s->n, sizeof(*s->v), cmp_pos);
	s->run_end = xcalloc(s->n + 1, sizeof(*s->run_end));
	for (size_t i = s->n; i-- > 0;)
		s->run_end[i] = i + 1 < s->n && s->v[i + 1].tli == s->v[i].tli && s->v[i + 1].segno == s->v[i].segno + 1
		        ? s->run_end[i + 1]
		        : i;
}

static const struct pgr_walseg *walseg_at(const struct pgr_catalog *cat, struct walpos p)
{
	char *name = walpos_name(cat, p);
	struct pgr_walseg key = {0};
	key.name = name;
	const struct pgr_walseg *hit = bsearch(&key, cat->wal, cat->n_wal, sizeof(*cat->wal), cmp_wal);
	free(name);
	return hit;
}

size_t pgr_catalog_spans(const struct pgr_catalog *cat, struct pgr_span **out)
{
	struct segset s;
	segset_build(cat, &s);
	struct pgr_span *v = xcalloc(cat->n_bases + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < cat->n_bases; i++) {
		const struct pgr_base *b = &cat->bases[i];
		struct walpos start, stop, missing;
		if (!b->complete || !base_usable(&s, b, &start, &stop, &missing))
			continue;
		struct walpos end = follow_run(&s, start, stop.segno);
		struct pgr_span *sp = &v[n++];
		sp->base = b;
		sp->from = b->manifest.stop_time;
		sp->start_tli = start.tli;
		sp->start_segno = start.segno;
		sp->tli = end.tli;
		sp->end_segno = end.segno;
		sp->last_wal = walpos_name(cat, end);
		const struct pgr_walseg *last = walseg_at(cat, end);
		sp->to = last ? last->mtime : b->manifest.stop_time;
		if (sp->to < sp->from)
			sp->to = sp->from;
		/* Later WAL on this timeline or the next one: the run ends at a hole. */
		for (size_t k = 0; k < s.n; k++)
			if ((s.v[k].tli == end.tli && s.v[k].segno > end.segno + 1) ||
			    (s.v[k].tli == end.tli + 1 && s.v[k].segno > end.segno + 1)) {
				struct walpos gap = {end.tli, end.segno + 1};
				sp->missing = walpos_name(cat, gap);
				break;
			}
	}
	free(s.v);
	free(s.run_end);
	*out = v;
	return n;
}

void pgr_spans_free(struct pgr_span *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].last_wal);
		free(v[i].missing);
	}
	free(v);
}

void pgr_catalog_window(const struct pgr_catalog *cat, struct pgr_window *w)
{
	window_for(cat, w, 0);
}

size_t pgr_catalog_windows(const struct pgr_catalog *cat, struct pgr_window **out)
{
	/* Every timeline with archived segments, oldest first. */
	uint32_t *tlis = xcalloc(cat->n_wal + 1, sizeof(*tlis));
	size_t nt = 0;
	for (size_t i = 0; i < cat->n_wal; i++) {
		if (cat->wal[i].wn.kind != PGR_WAL_SEGMENT)
			continue;
		bool seen = false;
		for (size_t k = 0; k < nt && !seen; k++)
			seen = tlis[k] == cat->wal[i].wn.tli;
		if (!seen)
			tlis[nt++] = cat->wal[i].wn.tli;
	}
	for (size_t a = 1; a < nt; a++)
		for (size_t b = a; b > 0 && tlis[b - 1] > tlis[b]; b--) {
			uint32_t t = tlis[b];
			tlis[b] = tlis[b - 1];
			tlis[b - 1] = t;
		}
	struct pgr_window *v = xcalloc(nt + 1, sizeof(*v));
	for (size_t k = 0; k < nt; k++) {
		window_for(cat, &v[k], tlis[k]);
		v[k].timeline = tlis[k];
	}
	free(tlis);
	*out = v;
	return nt;
}

void pgr_windows_free(struct pgr_window *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pgr_window_free(&v[i]);
	free(v);
}

void pgr_window_free(struct pgr_window *w)
{
	if (!w)
		return;
	free(w->earliest_base);
	free(w->last_wal);
	free(w->gap_after);
	free(w->why_not);
	memset(w, 0, sizeof(*w));
}
