/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The loader's checks, every reader's (show, check, diff, fleet, store, bundle) and the
 * collector's postcondition: the type of every field a reader uses, the skeleton, and bounds on
 * every list and chain, so that analysis runs in near-linear time on any document loaded.
 */
#include "model/model.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The type of every field a reader (show, check, diff, fleet, store, bundle) uses, where it is
 * present: "path types", the path's "[]" being every element of an array and "*" every member
 * of an object; types from S string, I integer, R real, B boolean, N null, O object, A array.
 * A field may be absent (readers treat absent as unknown) unless its types end in '!';
 * present, it must have its type.
 * schema/snapshot.v1.schema.json says the same for the documented fields.
 */
static const char *const field_types[] = {
    "bar_claims AN",
    "bar_claims[] O",
    "bar_claims[].* S",
    "coverage O",
    "coverage.config_space S",
    "devices[] O",
    "devices[].acs NO",
    "devices[].acs.present B",
    "devices[].acs.cap A",
    "devices[].acs.cap[] S",
    "devices[].acs.ctl A",
    "devices[].acs.ctl[] S",
    "devices[].acs.ctl_intel_spt A",
    "devices[].acs.ctl_intel_spt[] S",
    "devices[].aer NO",
    "devices[].aer.* IN",
    "devices[].ari BN",
    "devices[].boot_vga BN",
    "devices[].bridge NO",
    "devices[].bridge.secondary_bus I",
    "devices[].bridge.subordinate_bus I",
    "devices[].bridge.serr B",
    "devices[].aer_regs NO",
    "devices[].aer_regs.* S",
    "devices[].d3cold_allowed BN",
    "devices[].dpc NO",
    "devices[].dpc.present B",
    "devices[].dpc.trigger S",
    "devices[].dpc.triggered B",
    "devices[].dpc.reason SN",
    "devices[].dpc.source SN",
    "devices[].responds BN",
    "devices[].link_state NO",
    "devices[].link_state.active BN",
    "devices[].link_state.training B",
    "devices[].power_state SN",
    "devices[].class SN",
    "devices[].config_bytes I",
    "devices[].driver SN",
    "devices[].driver_module SN",
    "devices[].driver_override SN",
    "devices[].dsn SN",
    "devices[].flr BN",
    "devices[].iommu_group IN",
    "devices[].kernel_multifunction BN",
    "devices[].label SN",
    "devices[].link NO",
    "devices[].link.cur_speed SN",
    "devices[].link.max_speed SN",
    "devices[].link.cur_width IN",
    "devices[].link.max_width IN",
    "devices[].multifunction BN",
    "devices[].name SN",
    "devices[].numa_node IN",
    "devices[].parent SN",
    "devices[].pcie_type SN",
    "devices[].physfn SN",
    "devices[].reset_methods AN",
    "devices[].reset_methods[] S",
    "devices[].revision SN",
    "devices[].slot SN",
    "devices[].sriov NO",
    "devices[].sriov.* IN",
    "devices[].subsystem_device SN",
    "devices[].subsystem_vendor SN",
    "evidence O",
    "evidence.interrupts NO",
    "evidence.interrupts.chips A",
    "evidence.interrupts.chips[] S",
    "evidence.interrupts.its I",
    "evidence.interrupts.not_remapped I",
    "evidence.interrupts.remapped I",
    "evidence.interrupts.unremapped_devices A",
    "evidence.interrupts.unremapped_devices[] S",
    "evidence.kernel_log NO",
    "evidence.kernel_log.iommu_enabled B",
    "evidence.kernel_log.irq_remapping SN",
    "evidence.kernel_log.lines A",
    "evidence.kernel_log.lines[] S",
    "evidence.kernel_log.source S",
    "escaped_inputs A",
    "escaped_inputs[] S",
    "firmware.* SBN",
    "groups[].type SN",
    "host.collected_at S",
    "host.hostname S",
    "host.tool_version SN",
    "iommu.acs_override SN",
    "iommu.allow_unsafe_interrupts BN",
    "iommu.enabled B",
    "iommu.irq_remapping S",
    "iommu.irq_remapping_evidence A",
    "iommu.irq_remapping_evidence[] S",
    "iommu.kernel_log_iommu BN",
    "iommu.noiommu_mode BN",
    "iommu.units A",
    "iommu.units[] O",
    "iommu.units[].* SBN",
    "iommu.vendor SN",
    "kernel.cmdline SN",
    "kernel.cmdline_options O",
    "kernel.cmdline_options.* SNA",
    "kernel.cmdline_options.*[] S",
    "kernel.cmdline_tokens A",
    "kernel.cmdline_tokens[] O",
    "kernel.cmdline_tokens[].key S!",
    "kernel.cmdline_tokens[].value SN",
    "kernel.modules A",
    "kernel.modules[] S",
    "kernel.release SN",
    "schema_version I",
    "vfio O",
    "vfio.ids A",
    "vfio.ids[] O",
    "vfio.ids[].id S",
    "vfio.ids[].source S",
    "vfio.modprobe O",
    "vfio.modprobe.blacklist A",
    "vfio.modprobe.blacklist[] S",
    "vfio.modprobe.files A",
    "vfio.modprobe.files[] S",
    "vfio.modprobe.install O",
    "vfio.modprobe.install.* S",
    "vfio.modprobe.options O",
    "vfio.modprobe.options.* O",
    "vfio.modprobe.options.*.* S",
    "vfio.modprobe.softdep O",
    "vfio.modprobe.softdep.* S",
    "vfio.modules O",
    "vfio.modules.* BN",
    "vfio.parameters O",
    "vfio.parameters.* NO",
    "vfio.parameters.*.* S",
    "vms A",
    "vms[] O",
    "vms[].file SN",
    "vms[].id SN",
    "vms[].name SN",
    "vms[].source SN",
    "vms[].hostdevs A",
    "vms[].hostdevs[] O",
    "vms[].hostdevs[].addresses A",
    "vms[].hostdevs[].addresses[] S",
    "vms[].hostdevs[].devices A",
    "vms[].hostdevs[].devices[] S",
    "vms[].hostdevs[].key SN",
    "vms[].hostdevs[].mapping SN",
    "vms[].hostdevs[].options SN",
};

static bool type_allowed(const json_t *v, const char *types)
{
	char t;

	switch (json_typeof(v)) {
	case JSON_STRING:
		t = 'S';
		break;
	case JSON_INTEGER:
		t = 'I';
		break;
	case JSON_REAL:
		t = 'R';
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		t = 'B';
		break;
	case JSON_NULL:
		t = 'N';
		break;
	case JSON_OBJECT:
		t = 'O';
		break;
	default:
		t = 'A';
		break;
	}
	return strchr(types, t) != NULL;
}

/* Check every value at path (below v) against types; where names the first offender. */
static bool check_path(const json_t *v, const char *path, const char *types, char *where, size_t n)
{
	const char *end;
	char seg[64];
	size_t len;

	if (!*path) {
		if (type_allowed(v, types))
			return true;
		snprintf(where, n, "has the wrong type");
		return false;
	}
	if (!strncmp(path, "[]", 2)) {
		size_t i;
		json_t *x;

		if (!json_is_array(v))
			return true; /* the array's own rule says what it must be */
		path += 2;
		if (*path == '.')
			path++;
		json_array_foreach (v, i, x)
			if (!check_path(x, path, types, where, n))
				return false;
		return true;
	}
	end = path + strcspn(path, ".[");
	len = (size_t)(end - path) < sizeof(seg) ? (size_t)(end - path) : sizeof(seg) - 1;
	memcpy(seg, path, len);
	seg[len] = '\0';
	path = *end == '.' ? end + 1 : end;
	if (!json_is_object(v))
		return true;
	if (!strcmp(seg, "*")) {
		const char *k;
		json_t *x;

		json_object_foreach ((json_t *)v, k, x)
			if (!check_path(x, path, types, where, n))
				return false;
		return true;
	}
	v = json_object_get(v, seg);
	if (!v && !*path && types[strlen(types) - 1] == '!') {
		snprintf(where, n, "is missing");
		return false;
	}
	return v ? check_path(v, path, types, where, n) : true;
}

/*
 * The same rules as one tree, walked once over the document: each value is visited once,
 * where check_path() walks from the root for every rule (a 1,000-device document: ~60,000
 * lookups by path, each parsing its path again). The walk says only whether every rule holds;
 * when one does not, check_path() names the first offender as it always has.
 */
struct rule_node {
	char seg[48];       /* a key, "*" (every key) or "[]" (every element) */
	const char *types;  /* the types allowed here, or NULL: no rule ends here */
	int child, sibling; /* indices into rule_nodes, -1 for none */
};

static struct rule_node rule_nodes[2 * SNAP_ARRAY_SIZE(field_types) + 64];
static int rule_node_count;
static bool rule_tree_ok; /* false: a rule the tree cannot hold; check_path() alone */
static pthread_once_t rule_tree_once = PTHREAD_ONCE_INIT;

static int rule_child(int parent, const char *seg, size_t len)
{
	int c;

	for (c = rule_nodes[parent].child; c >= 0; c = rule_nodes[c].sibling)
		if (strlen(rule_nodes[c].seg) == len && !memcmp(rule_nodes[c].seg, seg, len))
			return c;
	if (len >= sizeof(rule_nodes[0].seg) || rule_node_count >= (int)SNAP_ARRAY_SIZE(rule_nodes))
		return -1;
	c = rule_node_count++;
	memcpy(rule_nodes[c].seg, seg, len);
	rule_nodes[c].seg[len] = '\0';
	rule_nodes[c].types = NULL;
	rule_nodes[c].child = -1;
	/* appended: children are walked in the order the rules name them */
	rule_nodes[c].sibling = -1;
	if (rule_nodes[parent].child < 0) {
		rule_nodes[parent].child = c;
	} else {
		int last = rule_nodes[parent].child;

		while (rule_nodes[last].sibling >= 0)
			last = rule_nodes[last].sibling;
		rule_nodes[last].sibling = c;
	}
	return c;
}

static void build_rule_tree(void)
{
	size_t i;

	rule_node_count = 1;
	rule_nodes[0] = (struct rule_node){"", NULL, -1, -1};
	for (i = 0; i < SNAP_ARRAY_SIZE(field_types); i++) {
		const char *p = field_types[i], *sp = strchr(p, ' ');
		int node = 0;

		while (p < sp) {
			size_t len = !strncmp(p, "[]", 2) ? 2 : strcspn(p, ".[ ");

			if ((node = rule_child(node, p, len)) < 0)
				return;
			p += len;
			if (*p == '.')
				p++;
		}
		if (rule_nodes[node].types)
			return; /* two rules of one path */
		rule_nodes[node].types = sp + 1;
	}
	rule_tree_ok = true;
}

static bool walk_rules(const json_t *v, int node)
{
	const struct rule_node *r = &rule_nodes[node];
	int c;

	if (r->types && !type_allowed(v, r->types))
		return false;
	for (c = r->child; c >= 0; c = rule_nodes[c].sibling) {
		const struct rule_node *k = &rule_nodes[c];
		const char *key;
		json_t *x;
		size_t i;

		if (!strcmp(k->seg, "[]")) {
			json_array_foreach (v, i,
			                    x) /* no array: its own rule says what it must be */
				if (!walk_rules(x, c))
					return false;
		} else if (!json_is_object(v)) {
			continue;
		} else if (!strcmp(k->seg, "*")) {
			json_object_foreach ((json_t *)v, key, x)
				if (!walk_rules(x, c))
					return false;
		} else if ((x = json_object_get(v, k->seg))) {
			if (!walk_rules(x, c))
				return false;
		} else if (k->types && k->types[strlen(k->types) - 1] == '!') {
			return false;
		}
	}
	return true;
}

/* dddd:bb:ss.f in lowercase hex as sysfs names devices (the domain "%04x": 4 to 8 digits) */
static bool bdf_valid(const char *s)
{
	static const char shape[] = ":hh:hh.f";
	size_t dom, i;

	if (!s)
		return false;
	dom = strspn(s, "0123456789abcdef");
	if (dom < 4 || dom > 8 || strlen(s + dom) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i]; i++) {
		char c = s[dom + i];

		if (shape[i] == 'h' && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		if (shape[i] == 'f' && !(c >= '0' && c <= '7'))
			return false;
		if (shape[i] != 'h' && shape[i] != 'f' && c != shape[i])
			return false;
	}
	return strtoul(s + dom + 4, NULL, 16) <= 0x1f; /* slot: 5 bits */
}

/*
 * Bounds that no host reaches and that keep every analysis's work bounded for any document the
 * loader accepts: how many of each list, and how deep a chain of bridges (each bridge takes a
 * bus number: 256 at most below a root).
 */
#define MAX_DEVICES         (1u << 17) /* a fully populated PCI domain has 65,536 functions */
#define MAX_DEPTH           256
#define MAX_TOKENS          8192 /* COMMAND_LINE_SIZE is 2,048 bytes on x86 */
#define MAX_MODULES         65536
#define MAX_IDS             4096
#define MAX_VMS             65536
#define MAX_HOSTDEVS        64  /* per VM (Proxmox has hostpci0 to hostpci15) */
#define MAX_HOSTDEV_DEVICES 256 /* functions one hostdev names (a slot has 8) */

static int check_bounds(const json_t *root, snap_error *err)
{
	static const struct {
		const char *obj, *key;
		size_t max;
	} lists[] = {
	    {NULL, "devices", MAX_DEVICES},
	    {NULL, "groups", MAX_DEVICES},
	    {"kernel", "cmdline_tokens", MAX_TOKENS},
	    {"kernel", "modules", MAX_MODULES},
	    {"vfio", "ids", MAX_IDS},
	    {NULL, "vms", MAX_VMS},
	};
	const json_t *devices = json_object_get(root, "devices"), *d, *vm;
	json_t *index = NULL;
	int *parent = NULL, *depth = NULL, error = 0;
	size_t i, n;

	for (i = 0; i < SNAP_ARRAY_SIZE(lists); i++) {
		const json_t *o = lists[i].obj ? json_object_get(root, lists[i].obj) : root;

		if (json_array_size(json_object_get(o, lists[i].key)) > lists[i].max)
			return snap_error__set(err, SNAP_EINVALID,
			                       "invalid snapshot: more than %zu entries in \"%s\"",
			                       lists[i].max, lists[i].key);
	}
	json_array_foreach (json_object_get(root, "vms"), i, vm) {
		const json_t *hd;
		size_t j;

		if (json_array_size(json_object_get(vm, "hostdevs")) > MAX_HOSTDEVS)
			return snap_error__set(err, SNAP_EINVALID,
			                       "invalid snapshot: a VM with more than %d hostdevs",
			                       MAX_HOSTDEVS);
		json_array_foreach (json_object_get(vm, "hostdevs"), j, hd)
			if (json_array_size(json_object_get(hd, "devices")) > MAX_HOSTDEV_DEVICES ||
			    json_array_size(json_object_get(hd, "addresses")) > MAX_HOSTDEV_DEVICES)
				return snap_error__set(
				    err, SNAP_EINVALID,
				    "invalid snapshot: a hostdev naming more than %d devices",
				    MAX_HOSTDEV_DEVICES);
	}
	/* parent chains: no loops, at most MAX_DEPTH deep (linear: depths are memoised) */
	n = json_array_size(devices);
	if (!n)
		return 0;
	index = json_object();
	parent = malloc(n * sizeof(*parent));
	depth = calloc(n, sizeof(*depth)); /* 0: not yet known; -1: on the current walk */
	if (!index || !parent || !depth) {
		error = snap_error__set(err, SNAP_ENOMEM, "out of memory");
		goto done;
	}
	json_array_foreach (devices, i, d)
		json_object_set_new(index, snap_json__str(d, "bdf"), json_integer((json_int_t)i));
	json_array_foreach (devices, i, d) {
		const char *pb = snap_json__str(d, "parent");
		const json_t *p = pb ? json_object_get(index, pb) : NULL;

		parent[i] = p ? (int)json_integer_value(p) : -1;
	}
	for (i = 0; i < n && !error; i++) {
		int at = (int)i, len = 0, base;

		/* walk up to a device of known depth (or the root), marking the way */
		while (at >= 0 && depth[at] == 0) {
			depth[at] = -1;
			at = parent[at];
			if (++len > MAX_DEPTH + 1)
				break;
		}
		if (at >= 0 && depth[at] < 0) {
			error = snap_error__set(err, SNAP_EINVALID,
			                        "invalid snapshot: the parents of '%s' form a loop",
			                        snap_json__str(json_array_get(devices, i), "bdf"));
			break;
		}
		base = at >= 0 ? depth[at] : 0;
		if (len > MAX_DEPTH + 1 || base + len > MAX_DEPTH + 1) {
			error = snap_error__set(
			    err, SNAP_EINVALID,
			    "invalid snapshot: '%s' sits below more than %d bridges",
			    snap_json__str(json_array_get(devices, i), "bdf"), MAX_DEPTH);
			break;
		}
		/* write the depths down the way just walked */
		for (int w = (int)i, k = len; w != at; w = parent[w], k--)
			depth[w] = base + k;
	}
done:
	json_decref(index);
	free(parent);
	free(depth);
	return error;
}

/* Structural checks beyond JSON syntax: what diff, check and show rely on. */
int snap_snapshot__check_skeleton(const json_t *root, snap_error *err)
{
	static const char *const objects[] = {"host", "kernel", "firmware", "iommu"};
	const char *schema = snap_json__str(root, "schema");
	json_t *groups, *devices, *v;
	size_t i;
	int error;

	if (!json_is_object(root))
		return snap_error__set(err, SNAP_EINVALID,
		                       "not a pcisnap snapshot: not a JSON object");
	if (!schema)
		return snap_error__set(err, SNAP_EINVALID,
		                       "not a pcisnap snapshot: no \"schema\" string");
	if (strncmp(schema, "pcisnap.snapshot/", 17) != 0)
		return snap_error__set(err, SNAP_EINVALID,
		                       "not a pcisnap snapshot: schema is '%.64s'", schema);
	{
		long major = 0;

		if (!schema[17] || strspn(schema + 17, "0123456789") != strlen(schema + 17) ||
		    strlen(schema + 17) > 6 || snap_parse__int(&major, schema + 17) < 0 ||
		    major < 1)
			return snap_error__set(err, SNAP_EINVALID, "bad snapshot schema '%.64s'",
			                       schema);
		if (major > SNAP_SNAPSHOT_SCHEMA_VERSION)
			return snap_error__set(err, SNAP_ESCHEMA,
			                       "snapshot schema '%.64s' is newer than this pcisnap "
			                       "reads (pcisnap.snapshot/%d); upgrade pcisnap",
			                       schema, SNAP_SNAPSHOT_SCHEMA_VERSION);
	}
	for (i = 0; i < SNAP_ARRAY_SIZE(objects); i++)
		if (!json_is_object(json_object_get(root, objects[i])))
			return snap_error__set(
			    err, SNAP_EINVALID,
			    "invalid snapshot: \"%s\" is missing or not an object", objects[i]);
	groups = json_object_get(root, "groups");
	devices = json_object_get(root, "devices");
	if (!json_is_array(groups) || !json_is_array(devices))
		return snap_error__set(
		    err, SNAP_EINVALID,
		    "invalid snapshot: \"groups\" and \"devices\" must be arrays");
	json_array_foreach (groups, i, v) {
		json_t *members = json_object_get(v, "devices"), *m;
		size_t j;

		if (!json_is_integer(json_object_get(v, "id")) || !json_is_array(members))
			return snap_error__set(
			    err, SNAP_EINVALID,
			    "invalid snapshot: group %zu needs an integer \"id\" "
			    "and a \"devices\" array",
			    i);
		json_array_foreach (members, j, m)
			if (!json_is_string(m))
				return snap_error__set(
				    err, SNAP_EINVALID,
				    "invalid snapshot: group %zu has a non-string member", i);
	}
	{
		json_t *seen = json_object();

		error = 0;
		if (!seen)
			return snap_error__set(err, SNAP_ENOMEM, "out of memory");
		json_array_foreach (devices, i, v) {
			const char *bdf = snap_json__str(v, "bdf"), *parent;

			if (!json_is_object(v) || !bdf_valid(bdf)) {
				error = snap_error__set(
				    err, SNAP_EINVALID,
				    "invalid snapshot: device %zu has no valid \"bdf\"", i);
				break;
			}
			if (json_object_get(seen, bdf)) {
				error = snap_error__set(
				    err, SNAP_EINVALID,
				    "invalid snapshot: device '%s' is listed twice", bdf);
				break;
			}
			json_object_set_new(seen, bdf, json_true());
			if (!snap_json__str(v, "vendor") || !snap_json__str(v, "device")) {
				error = snap_error__set(
				    err, SNAP_EINVALID,
				    "invalid snapshot: device '%s' lacks vendor/device ids", bdf);
				break;
			}
			parent = snap_json__str(v, "parent");
			if (parent && (!bdf_valid(parent) || !strcmp(parent, bdf))) {
				error = snap_error__set(
				    err, SNAP_EINVALID,
				    "invalid snapshot: device '%s' has a bad \"parent\"", bdf);
				break;
			}
		}
		json_decref(seen);
		if (error < 0)
			return error;
	}
	if ((error = check_bounds(root, err)) < 0)
		return error;
	pthread_once(&rule_tree_once, build_rule_tree);
	if (rule_tree_ok && walk_rules(root, 0))
		return 0;
	for (i = 0; i < SNAP_ARRAY_SIZE(field_types); i++) {
		char path[96], where[64];
		const char *sp = strchr(field_types[i], ' ');
		size_t len = (size_t)(sp - field_types[i]);

		memcpy(path, field_types[i], len);
		path[len] = '\0';
		if (!check_path(root, path, sp + 1, where, sizeof(where)))
			return snap_error__set(err, SNAP_EINVALID, "invalid snapshot: \"%s\" %s",
			                       path, where);
	}
	return 0;
}

int snap_snapshot__validate(const json_t *root, snap_error *err)
{
	return snap_snapshot__check_skeleton(root, err);
}
