#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atlas.h"
#include "parse.h"

/* Tests run from the repository root; the reference data sits beside it. */
#define ATLAS_YAML "../shared/atlas/ATLAS.yaml"

static size_t list_len(const char *const *l)
{
  size_t n = 0;
  assert_non_null(l);
  while (l[n])
    n++;
  return n;
}

static int list_has(const char *const *l, const char *s)
{
  for (; *l; l++)
    if (strcmp(*l, s) == 0)
      return 1;
  return 0;
}

static void test_version(void **state)
{
  (void)state;
  assert_string_equal(mlg_atlas_version(), "5.6.0");
}

static void test_kind_names(void **state)
{
  (void)state;
  assert_string_equal(mlg_atlas_kind_name(MLG_ATLAS_TACTIC), "tactic");
  assert_string_equal(mlg_atlas_kind_name(MLG_ATLAS_TECHNIQUE), "technique");
  assert_string_equal(mlg_atlas_kind_name(MLG_ATLAS_SUBTECHNIQUE), "subtechnique");
  assert_string_equal(mlg_atlas_kind_name(MLG_ATLAS_MITIGATION), "mitigation");
  assert_string_equal(mlg_atlas_kind_name((mlg_atlas_kind)42), "?");
}

static void test_unsafe_artifacts(void **state)
{
  const mlg_atlas_entry *e = mlg_atlas_find("AML.T0011.000");
  const mlg_atlas_entry *p;
  (void)state;
  assert_non_null(e);
  assert_string_equal(e->id, "AML.T0011.000");
  assert_string_equal(e->name, "Unsafe AI Artifacts");
  assert_int_equal(e->kind, MLG_ATLAS_SUBTECHNIQUE);
  assert_string_equal(e->parent, "AML.T0011");
  p = mlg_atlas_find(e->parent);
  assert_non_null(p);
  assert_string_equal(p->name, "User Execution");
  assert_int_equal(p->kind, MLG_ATLAS_TECHNIQUE);
  assert_null(p->parent);
  /* Sub-techniques inherit the tactics of their technique. */
  assert_int_equal(list_len(e->tactics), list_len(p->tactics));
  assert_string_equal(e->tactics[0], "AML.TA0005");
  assert_int_equal(list_len(e->techniques), 0);
  assert_int_equal(list_len(e->lifecycle), 0);
}

static void test_other_techniques(void **state)
{
  const mlg_atlas_entry *e;
  (void)state;
  e = mlg_atlas_find("AML.T0010.003");
  assert_non_null(e);
  assert_string_equal(e->name, "Model");
  assert_int_equal(e->kind, MLG_ATLAS_SUBTECHNIQUE);
  assert_string_equal(e->parent, "AML.T0010");
  assert_string_equal(mlg_atlas_find("AML.T0010")->name, "AI Supply Chain Compromise");

  e = mlg_atlas_find("AML.T0018.002");
  assert_non_null(e);
  assert_string_equal(e->name, "Embed Malware");
  assert_int_equal(e->kind, MLG_ATLAS_SUBTECHNIQUE);
  assert_string_equal(e->parent, "AML.T0018");
}

static void test_technique_tactics(void **state)
{
  const mlg_atlas_entry *e = mlg_atlas_find("AML.T0010");
  const mlg_atlas_entry *t;
  (void)state;
  assert_non_null(e);
  assert_int_equal(list_len(e->tactics), 1);
  assert_string_equal(e->tactics[0], "AML.TA0004");
  t = mlg_atlas_find(e->tactics[0]);
  assert_non_null(t);
  assert_int_equal(t->kind, MLG_ATLAS_TACTIC);
  assert_string_equal(t->name, "Initial Access");
  assert_null(t->parent);
  assert_int_equal(list_len(t->tactics), 0);

  e = mlg_atlas_find("AML.T0018"); /* Manipulate AI Model: two tactics */
  assert_non_null(e);
  assert_string_equal(e->name, "Manipulate AI Model");
  assert_int_equal(list_len(e->tactics), 2);
  assert_string_equal(e->tactics[0], "AML.TA0006");
  assert_string_equal(e->tactics[1], "AML.TA0001");
}

static void test_mitigation(void **state)
{
  const mlg_atlas_entry *e = mlg_atlas_find("AML.M0016");
  (void)state;
  assert_non_null(e);
  assert_string_equal(e->name, "Vulnerability Scanning");
  assert_int_equal(e->kind, MLG_ATLAS_MITIGATION);
  assert_null(e->parent);
  assert_int_equal(list_len(e->tactics), 0);
  assert_int_equal(list_len(e->techniques), 3);
  assert_string_equal(e->techniques[0], "AML.T0011.000");
  assert_string_equal(e->techniques[1], "AML.T0011.001");
  assert_string_equal(e->techniques[2], "AML.T0011");
  assert_string_equal(mlg_atlas_find(e->techniques[0])->name, "Unsafe AI Artifacts");
  assert_int_equal(list_len(e->lifecycle), 2);
  assert_string_equal(e->lifecycle[0], "ML Model Engineering");
  assert_string_equal(e->lifecycle[1], "Data Preparation");
}

/* ATLAS 5.6.0 misplaces {id: AML.T0052.001} entries under ml-lifecycle of
 * M0018 and M0034; the generator counts them as techniques. */
static void test_misplaced_technique(void **state)
{
  const char *ids[] = {"AML.M0018", "AML.M0034"};
  size_t i;
  (void)state;
  for (i = 0; i < 2; i++) {
    const mlg_atlas_entry *e = mlg_atlas_find(ids[i]);
    assert_non_null(e);
    assert_true(list_has(e->techniques, "AML.T0052.001"));
    assert_false(list_has(e->lifecycle, "AML.T0052.001"));
  }
  assert_int_equal(list_len(mlg_atlas_find("AML.M0018")->lifecycle), 6);
}

static void test_sorted_and_linked(void **state)
{
  size_t n, i, tactics = 0, techniques = 0, subs = 0, mitigations = 0;
  const mlg_atlas_entry *all = mlg_atlas_entries(&n);
  (void)state;
  assert_int_equal(n, 221);
  assert_ptr_equal(mlg_atlas_entries(NULL), all);
  for (i = 0; i < n; i++) {
    const mlg_atlas_entry *e = &all[i];
    const char *const *r;
    if (i > 0)
      assert_true(strcmp(all[i - 1].id, e->id) < 0);
    assert_ptr_equal(mlg_atlas_find(e->id), e);
    assert_true(strncmp(e->id, "AML.", 4) == 0);
    assert_true(e->name[0] != '\0');
    assert_non_null(e->tactics);
    assert_non_null(e->techniques);
    assert_non_null(e->lifecycle);
    switch (e->kind) {
    case MLG_ATLAS_TACTIC: tactics++; break;
    case MLG_ATLAS_TECHNIQUE: techniques++; break;
    case MLG_ATLAS_SUBTECHNIQUE: subs++; break;
    case MLG_ATLAS_MITIGATION: mitigations++; break;
    default: fail();
    }
    if (e->kind == MLG_ATLAS_SUBTECHNIQUE) {
      assert_non_null(e->parent);
      assert_int_equal(mlg_atlas_find(e->parent)->kind, MLG_ATLAS_TECHNIQUE);
      assert_true(strncmp(e->id, e->parent, strlen(e->parent)) == 0);
    } else {
      assert_null(e->parent);
    }
    if (e->kind == MLG_ATLAS_TECHNIQUE || e->kind == MLG_ATLAS_SUBTECHNIQUE)
      assert_true(list_len(e->tactics) > 0);
    else
      assert_int_equal(list_len(e->tactics), 0);
    for (r = e->tactics; *r; r++)
      assert_int_equal(mlg_atlas_find(*r)->kind, MLG_ATLAS_TACTIC);
    if (e->kind == MLG_ATLAS_MITIGATION) {
      assert_true(list_len(e->techniques) > 0);
      assert_true(list_len(e->lifecycle) > 0);
    } else {
      assert_int_equal(list_len(e->techniques), 0);
      assert_int_equal(list_len(e->lifecycle), 0);
    }
    for (r = e->techniques; *r; r++) {
      const mlg_atlas_entry *t = mlg_atlas_find(*r);
      assert_non_null(t);
      assert_true(t->kind == MLG_ATLAS_TECHNIQUE || t->kind == MLG_ATLAS_SUBTECHNIQUE);
    }
  }
  assert_int_equal(tactics, 16);
  assert_int_equal(techniques, 101);
  assert_int_equal(subs, 69);
  assert_int_equal(mitigations, 35);
}

static void test_unknown(void **state)
{
  (void)state;
  assert_null(mlg_atlas_find(NULL));
  assert_null(mlg_atlas_find(""));
  assert_null(mlg_atlas_find("AML"));
  assert_null(mlg_atlas_find("AML.T9999"));
  assert_null(mlg_atlas_find("aml.t0011.000")); /* ids are case-sensitive */
  assert_null(mlg_atlas_find("AML.T0011.000 "));
  assert_null(mlg_atlas_find("AML.T0011."));
  assert_null(mlg_atlas_find("AML.CS0000")); /* case studies are not compiled in */
  assert_null(mlg_atlas_find("ZZZ"));
  assert_non_null(mlg_atlas_find("AML.M0000")); /* first */
  assert_non_null(mlg_atlas_find("AML.TA0015")); /* last */
}

/* --- consistency with ATLAS.yaml ------------------------------------------ */

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;
  if (!f)
    return NULL;
  for (;;) {
    size_t got;
    if (cap - n < 65536) {
      cap = cap * 2 + 65536;
      buf = realloc(buf, cap);
      assert_non_null(buf);
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  fclose(f);
  *len = n;
  return buf;
}

static const char *str_of(const mlg_node *map, const char *key)
{
  const mlg_node *v = mlg_map_get(map, key);
  assert_non_null(v);
  assert_int_equal(v->type, MLG_STR);
  return v->u.str.ptr;
}

static int seen_before(const mlg_node *seq, size_t i, const char *subkey, const char *s)
{
  size_t j;
  for (j = 0; j < i; j++) {
    const mlg_node *it = seq->u.seq.items[j];
    const mlg_node *v = subkey ? mlg_map_get(it, subkey) : it;
    if (v && v->type == MLG_STR && strcmp(v->u.str.ptr, s) == 0)
      return 1;
  }
  return 0;
}

/* Each relation listed in the file must be in the compiled list, and the
 * compiled list must hold nothing else (extra: entries compiled from
 * elsewhere in the file, i.e. the misplaced ml-lifecycle techniques). */
static void check_list(const char *const *compiled, const mlg_node *seq, const char *subkey,
                       int scalars_only, size_t extra)
{
  size_t i, seen = 0;
  if (!seq) {
    assert_int_equal(list_len(compiled), extra);
    return;
  }
  assert_int_equal(seq->type, MLG_SEQ);
  for (i = 0; i < seq->u.seq.len; i++) {
    const mlg_node *it = seq->u.seq.items[i];
    const char *s;
    if (scalars_only && it->type != MLG_STR)
      continue;
    s = subkey ? str_of(it, subkey) : it->u.str.ptr;
    assert_int_equal(it->type, subkey ? MLG_MAP : MLG_STR);
    if (!list_has(compiled, s))
      fail_msg("'%s' missing from the compiled list", s);
    seen += !seen_before(seq, i, subkey, s); /* the generator drops repeats */
  }
  assert_int_equal(list_len(compiled), seen + extra);
}

static size_t misplaced(const mlg_node *lifecycle)
{
  size_t i, n = 0;
  for (i = 0; lifecycle && i < lifecycle->u.seq.len; i++)
    n += lifecycle->u.seq.items[i]->type == MLG_MAP;
  return n;
}

static void test_matches_atlas_yaml(void **state)
{
  static const char *const keys[] = {"tactics", "techniques", "mitigations"};
  mlg_doc *doc = NULL;
  mlg_err err;
  size_t len = 0, n, i, m, k, total = 0;
  char *text = slurp(ATLAS_YAML, &len);
  const mlg_atlas_entry *all = mlg_atlas_entries(&n);
  const mlg_node *matrices;
  unsigned char *seen;
  (void)state;

  if (!text) {
    skip();
    return;
  }
  mlg_err_clear(&err);
  if (mlg_yaml_parse(&doc, text, len, "ATLAS.yaml", NULL, &err) != 0) {
    free(text);
    fail_msg("%s", err.msg);
  }
  assert_string_equal(str_of(doc->root, "version"), mlg_atlas_version());
  seen = calloc(n, 1);
  assert_non_null(seen);
  matrices = mlg_map_get(doc->root, "matrices");
  assert_non_null(matrices);
  assert_int_equal(matrices->type, MLG_SEQ);
  for (m = 0; m < matrices->u.seq.len; m++) {
    for (k = 0; k < 3; k++) {
      const mlg_node *seq = mlg_map_get(matrices->u.seq.items[m], keys[k]);
      for (i = 0; seq && i < seq->u.seq.len; i++) {
        const mlg_node *obj = seq->u.seq.items[i];
        const char *id = str_of(obj, "id");
        const mlg_atlas_entry *e = mlg_atlas_find(id);
        const mlg_node *parent = mlg_map_get(obj, "subtechnique-of");
        if (!e)
          fail_msg("%s is in ATLAS.yaml but not compiled in", id);
        assert_string_equal(e->name, str_of(obj, "name"));
        seen[e - all] = 1;
        total++;
        if (k == 0) {
          assert_int_equal(e->kind, MLG_ATLAS_TACTIC);
        } else if (k == 1 && parent) {
          assert_int_equal(e->kind, MLG_ATLAS_SUBTECHNIQUE);
          assert_string_equal(e->parent, parent->u.str.ptr);
          /* inherited from the parent when the file lists none */
          if (mlg_map_get(obj, "tactics"))
            check_list(e->tactics, mlg_map_get(obj, "tactics"), NULL, 0, 0);
          else
            check_list(e->tactics, NULL, NULL, 0,
                       list_len(mlg_atlas_find(e->parent)->tactics));
        } else if (k == 1) {
          assert_int_equal(e->kind, MLG_ATLAS_TECHNIQUE);
          check_list(e->tactics, mlg_map_get(obj, "tactics"), NULL, 0, 0);
        } else {
          const mlg_node *lc = mlg_map_get(obj, "ml-lifecycle");
          assert_int_equal(e->kind, MLG_ATLAS_MITIGATION);
          check_list(e->techniques, mlg_map_get(obj, "techniques"), "id", 0, misplaced(lc));
          check_list(e->lifecycle, lc, NULL, 1, 0);
        }
      }
    }
  }
  for (i = 0; i < n; i++)
    if (!seen[i])
      fail_msg("%s is compiled in but not in ATLAS.yaml", all[i].id);
  assert_int_equal(total, n);
  free(seen);
  free(text);
  mlg_doc_free(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_version),
    cmocka_unit_test(test_kind_names),
    cmocka_unit_test(test_unsafe_artifacts),
    cmocka_unit_test(test_other_techniques),
    cmocka_unit_test(test_technique_tactics),
    cmocka_unit_test(test_mitigation),
    cmocka_unit_test(test_misplaced_technique),
    cmocka_unit_test(test_sorted_and_linked),
    cmocka_unit_test(test_unknown),
    cmocka_unit_test(test_matches_atlas_yaml),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
