/* meta -- tags, tenant and custom fields of IPAM prefixes and allocations (control/ipam/ipam.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ipam/ipam.h"
#include "dns/errcode.h"

bool ipam_meta_empty(const struct ipam_meta *m)
{
	return m->tenant[0] == '\0' && m->ntags == 0 && m->nfields == 0;
}

static int tag_check(const char *t, struct ipam_error *err)
{
	char sb[80];
	size_t n = strlen(t);
	if (n == 0)
		return ipam_fail(err, DDI_EINVAL, "a tag is empty");
	int r = ipam_check_text(t, IPAM_TAG_MAX, "a tag", err);
	if (r != DDI_EOK)
		return r;
	if (strchr(t, ',') || t[0] == ' ' || t[n - 1] == ' ')
		return ipam_fail(err, DDI_EINVAL, "tag '%s' holds a comma or starts or ends with a space",
		                 ipam_shown(t, sb));
	return DDI_EOK;
}

static int key_check(const char *k, struct ipam_error *err)
{
	char sb[80];
	size_t n = strlen(k);
	bool ok = n > 0 && n <= IPAM_FIELD_KEY_MAX && k[0] >= 'a' && k[0] <= 'z';
	for (size_t i = 0; ok && i < n; i++)
		ok = (k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_';
	if (!ok)
		return ipam_fail(err, DDI_EINVAL,
		                 "custom field name '%s' is not 1..%d of a-z, 0-9, _ starting with a letter",
		                 ipam_shown(k, sb), IPAM_FIELD_KEY_MAX);
	return DDI_EOK;
}

static int value_check(const char *key, const char *v, struct ipam_error *err)
{
	char what[IPAM_FIELD_KEY_MAX + 40];
	snprintf(what, sizeof(what), "custom field '%s'", key);
	if (v[0] == '\0')
		return ipam_fail(err, DDI_EINVAL, "%s is empty", what);
	return ipam_check_text(v, IPAM_FIELD_VALUE_MAX, what, err);
}

int ipam_meta_check(const struct ipam_meta *m, struct ipam_error *err)
{
	int r = ipam_check_text(m->tenant, IPAM_TENANT_MAX, "the tenant", err);
	if (r != DDI_EOK)
		return r;
	if (m->ntags > IPAM_TAGS_MAX || m->nfields > IPAM_FIELDS_MAX)
		return ipam_fail(err, DDI_EINVAL, "more than %d tags or %d custom fields", IPAM_TAGS_MAX,
		                 IPAM_FIELDS_MAX);
	for (size_t i = 0; i < m->ntags; i++) {
		if (strnlen(m->tags[i], IPAM_TAG_MAX + 1) > IPAM_TAG_MAX)
			return ipam_fail(err, DDI_EINVAL, "a tag is longer than %d bytes", IPAM_TAG_MAX);
		if ((r = tag_check(m->tags[i], err)) != DDI_EOK)
			return r;
		if (i > 0 && strcmp(m->tags[i - 1], m->tags[i]) >= 0)
			return ipam_fail(err, DDI_EINVAL, "tags not sorted or repeated");
	}
	for (size_t i = 0; i < m->nfields; i++) {
		const struct ipam_field *f = &m->fields[i];
		if (strnlen(f->key, IPAM_FIELD_KEY_MAX + 1) > IPAM_FIELD_KEY_MAX)
			return ipam_fail(err, DDI_EINVAL, "a custom field name is too long");
		if ((r = key_check(f->key, err)) != DDI_EOK ||
		    (r = value_check(f->key, f->value, err)) != DDI_EOK)
			return r;
		if (i > 0 && strcmp(m->fields[i - 1].key, f->key) >= 0)
			return ipam_fail(err, DDI_EINVAL, "custom fields not sorted or repeated");
	}
	return DDI_EOK;
}

int ipam_meta_set_tenant(struct ipam_meta *m, const char *tenant, struct ipam_error *err)
{
	int r = ipam_check_text(tenant, IPAM_TENANT_MAX, "the tenant", err);
	if (r != DDI_EOK)
		return r;
	memset(m->tenant, 0, sizeof(m->tenant));
	memcpy(m->tenant, tenant, strlen(tenant));
	return DDI_EOK;
}

int ipam_meta_tag_add(struct ipam_meta *m, const char *tag, struct ipam_error *err)
{
	int r = tag_check(tag, err);
	if (r != DDI_EOK)
		return r;
	size_t i = 0;
	while (i < m->ntags && strcmp(m->tags[i], tag) < 0)
		i++;
	if (i < m->ntags && strcmp(m->tags[i], tag) == 0)
		return DDI_EOK;
	if (m->ntags == IPAM_TAGS_MAX)
		return ipam_fail(err, DDI_ELIMIT, "more than %d tags", IPAM_TAGS_MAX);
	memmove(m->tags[i + 1], m->tags[i], (m->ntags - i) * sizeof(m->tags[0]));
	memset(m->tags[i], 0, sizeof(m->tags[i]));
	memcpy(m->tags[i], tag, strlen(tag));
	m->ntags++;
	return DDI_EOK;
}

int ipam_meta_tag_del(struct ipam_meta *m, const char *tag, struct ipam_error *err)
{
	char sb[80];
	for (size_t i = 0; i < m->ntags; i++)
		if (strcmp(m->tags[i], tag) == 0) {
			memmove(m->tags[i], m->tags[i + 1], (m->ntags - i - 1) * sizeof(m->tags[0]));
			m->ntags--;
			memset(m->tags[m->ntags], 0, sizeof(m->tags[0]));
			return DDI_EOK;
		}
	return ipam_fail(err, DDI_ENOENT, "no tag '%s'", ipam_shown(tag, sb));
}

const char *ipam_meta_field_get(const struct ipam_meta *m, const char *key)
{
	for (size_t i = 0; i < m->nfields; i++)
		if (strcmp(m->fields[i].key, key) == 0)
			return m->fields[i].value;
	return NULL;
}

int ipam_meta_field_set(struct ipam_meta *m, const char *key, const char *value,
                        struct ipam_error *err)
{
	int r = key_check(key, err);
	if (r != DDI_EOK)
		return r;
	size_t i = 0;
	while (i < m->nfields && strcmp(m->fields[i].key, key) < 0)
		i++;
	bool found = i < m->nfields && strcmp(m->fields[i].key, key) == 0;
	if (value[0] == '\0') {
		if (found) {
			memmove(&m->fields[i], &m->fields[i + 1], (m->nfields - i - 1) * sizeof(m->fields[0]));
			m->nfields--;
			memset(&m->fields[m->nfields], 0, sizeof(m->fields[0]));
		}
		return DDI_EOK;
	}
	if ((r = value_check(key, value, err)) != DDI_EOK)
		return r;
	if (!found) {
		if (m->nfields == IPAM_FIELDS_MAX)
			return ipam_fail(err, DDI_ELIMIT, "more than %d custom fields", IPAM_FIELDS_MAX);
		memmove(&m->fields[i + 1], &m->fields[i], (m->nfields - i) * sizeof(m->fields[0]));
		m->nfields++;
		memset(&m->fields[i], 0, sizeof(m->fields[i]));
		memcpy(m->fields[i].key, key, strlen(key));
	}
	memset(m->fields[i].value, 0, sizeof(m->fields[i].value));
	memcpy(m->fields[i].value, value, strlen(value));
	return DDI_EOK;
}

int ipam_meta_field_parse(struct ipam_meta *m, const char *kv, struct ipam_error *err)
{
	char key[IPAM_FIELD_KEY_MAX + 2], sb[80];
	const char *eq = strchr(kv, '=');
	if (!eq)
		return ipam_fail(err, DDI_EINVAL, "custom field '%s' is not KEY=VALUE", ipam_shown(kv, sb));
	size_t n = (size_t)(eq - kv);
	if (n > IPAM_FIELD_KEY_MAX)
		return ipam_fail(err, DDI_EINVAL, "custom field name longer than %d bytes",
		                 IPAM_FIELD_KEY_MAX);
	memcpy(key, kv, n);
	key[n] = '\0';
	return ipam_meta_field_set(m, key, eq + 1, err);
}

int ipam_meta_tags_parse(struct ipam_meta *m, const char *cell, struct ipam_error *err)
{
	char tag[IPAM_TAG_MAX + 1];
	const char *p = cell;
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *s = p, *e = p + n;
		while (s < e && *s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		if (e > s) {
			if ((size_t)(e - s) > IPAM_TAG_MAX)
				return ipam_fail(err, DDI_EINVAL, "a tag is longer than %d bytes", IPAM_TAG_MAX);
			memcpy(tag, s, (size_t)(e - s));
			tag[e - s] = '\0';
			int r = ipam_meta_tag_add(m, tag, err);
			if (r != DDI_EOK)
				return r;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return DDI_EOK;
}

void ipam_meta_tags_join(const struct ipam_meta *m, char out[IPAM_TAGS_STRLEN])
{
	size_t off = 0;
	out[0] = '\0';
	for (size_t i = 0; i < m->ntags && i < IPAM_TAGS_MAX; i++) {
		size_t n = strnlen(m->tags[i], IPAM_TAG_MAX);
		if (i > 0)
			out[off++] = ',';
		memcpy(out + off, m->tags[i], n);
		off += n;
		out[off] = '\0';
	}
}

int ipam_meta_to_json(const struct ipam_meta *m, json_t *obj)
{
	json_t *tags = json_array(), *fields = json_object();
	bool ok = tags && fields;
	for (size_t i = 0; ok && i < m->ntags; i++)
		ok = json_array_append_new(tags, json_string(m->tags[i])) == 0;
	for (size_t i = 0; ok && i < m->nfields; i++)
		ok = json_object_set_new(fields, m->fields[i].key, json_string(m->fields[i].value)) == 0;
	ok = ok && json_object_set_new(obj, "tenant", json_string(m->tenant)) == 0;
	ok = ok && json_object_set(obj, "tags", tags) == 0;
	ok = ok && json_object_set(obj, "fields", fields) == 0;
	json_decref(tags);
	json_decref(fields);
	return ok ? DDI_EOK : DDI_ENOMEM;
}

static int jmeta_str(const json_t *v, const char *what, const char **out, struct ipam_error *err)
{
	if (!json_is_string(v))
		return ipam_fail(err, DDI_EINVAL, "%s must be a string", what);
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v))
		return ipam_fail(err, DDI_EINVAL, "%s holds a NUL byte", what);
	return DDI_EOK;
}

int ipam_meta_from_json_member(struct ipam_meta *m, const char *k, const json_t *v,
                               struct ipam_error *err)
{
	const char *s = NULL;
	int r;
	if (strcmp(k, "tenant") == 0) {
		if ((r = jmeta_str(v, "'tenant'", &s, err)) != DDI_EOK)
			return r;
		return ipam_meta_set_tenant(m, s, err);
	}
	if (strcmp(k, "tags") == 0) {
		size_t i;
		json_t *t;
		if (!json_is_array(v))
			return ipam_fail(err, DDI_EINVAL, "'tags' must be an array of strings");
		if (json_array_size(v) > IPAM_TAGS_MAX)
			return ipam_fail(err, DDI_EINVAL, "'tags': more than %d tags", IPAM_TAGS_MAX);
		m->ntags = 0;
		memset(m->tags, 0, sizeof(m->tags));
		json_array_foreach(v, i, t) {
			if ((r = jmeta_str(t, "a tag", &s, err)) != DDI_EOK ||
			    (r = ipam_meta_tag_add(m, s, err)) != DDI_EOK)
				return r == DDI_ELIMIT ? DDI_EINVAL : r;
		}
		return DDI_EOK;
	}
	if (strcmp(k, "fields") == 0) {
		const char *fk;
		json_t *fv;
		if (!json_is_object(v))
			return ipam_fail(err, DDI_EINVAL, "'fields' must be an object of strings");
		if (json_object_size(v) > IPAM_FIELDS_MAX)
			return ipam_fail(err, DDI_EINVAL, "'fields': more than %d custom fields",
			                 IPAM_FIELDS_MAX);
		m->nfields = 0;
		memset(m->fields, 0, sizeof(m->fields));
		json_object_foreach((json_t *)v, fk, fv) {
			if ((r = jmeta_str(fv, "a custom field", &s, err)) != DDI_EOK)
				return r;
			if (s[0] == '\0')
				return ipam_fail(err, DDI_EINVAL, "custom field '%.50s' is empty", fk);
			if ((r = ipam_meta_field_set(m, fk, s, err)) != DDI_EOK)
				return r == DDI_ELIMIT ? DDI_EINVAL : r;
		}
		return DDI_EOK;
	}
	return DDI_ENOENT;
}
