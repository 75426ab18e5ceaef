/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A JSON-structure-aware mutator for libFuzzer: an input that parses as JSON is changed where
 * the loader and the readers look (a node's type, a string's text, a number's size, a member
 * dropped or an array element doubled) and written back, so the fuzzer explores snapshots the
 * loader accepts instead of bytes it refuses at once. Anything else is left to libFuzzer.
 */
#ifndef SNAP_JSON_MUTATOR_H
#define SNAP_JSON_MUTATOR_H
#ifdef SNAP_FUZZ

#include <jansson.h>
#include <stdint.h>
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static uint32_t mut_rand(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* The n-th node in document order (n counts down), and its container and key or index. */
static json_t *nth_node(json_t *j, long *n, json_t **parent, const char **key, size_t *index)
{
	const char *k;
	json_t *v, *r;
	size_t i;

	if ((*n)-- == 0)
		return j;
	if (json_is_object(j)) {
		json_object_foreach (j, k, v) {
			json_t *p0 = *parent;

			*parent = j;
			*key = k;
			if ((r = nth_node(v, n, parent, key, index)))
				return r;
			*parent = p0;
		}
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v) {
			json_t *p0 = *parent;

			*parent = j;
			*key = NULL;
			*index = i;
			if ((r = nth_node(v, n, parent, key, index)))
				return r;
			*parent = p0;
		}
	}
	return NULL;
}

static json_t *replacement(unsigned *seed)
{
	static const char *const strings[] = {"",
	                                      "0000:00:00.0",
	                                      "0000:00:01.0",
	                                      "vfio-pci",
	                                      "pci-stub",
	                                      "endpoint",
	                                      "root_port",
	                                      "downstream_port",
	                                      "conventional",
	                                      "rc_integrated_endpoint",
	                                      "enabled",
	                                      "disabled",
	                                      "unknown",
	                                      "SV",
	                                      "RR",
	                                      "\n\x1b[2J",
	                                      "10de:1e87",
	                                      "-1:0:0.0",
	                                      "ffffffff:ffffffff",
	                                      "pcisnap.snapshot/1"};

	switch (mut_rand(seed) % 8) {
	case 0:
		return json_null();
	case 1:
		return json_true();
	case 2:
		return json_false();
	case 3:
		return json_integer((json_int_t)(mut_rand(seed) % 3) - 1);
	case 4:
		return json_integer(INT64_MAX);
	case 5:
		return json_array();
	case 6:
		return json_object();
	default:
		return json_string(strings[mut_rand(seed) % (sizeof(strings) / sizeof(*strings))]);
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	json_t *root = json_loadb((const char *)data, size, 0, NULL), *node, *parent = NULL;
	const char *key = NULL;
	size_t index = 0, out = 0;
	char *text;
	long n;

	if (!root || mut_rand(&seed) % 8 == 0) { /* now and then, bytes as libFuzzer sees fit */
		json_decref(root);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	n = (long)(mut_rand(&seed) % 4096);
	while (!(node = nth_node(root, &n, &parent, &key, &index)) && n > 0)
		n = (long)(mut_rand(&seed) % (unsigned long)(4096 - n + 1));
	if (node && parent) {
		unsigned op = mut_rand(&seed) % 4;

		if (json_is_object(parent)) {
			char k[256];

			snprintf(k, sizeof(k), "%s", key);
			if (op == 0)
				json_object_del(parent, k);
			else
				json_object_set_new(parent, k, replacement(&seed));
		} else if (op == 0) {
			json_array_remove(parent, index);
		} else if (op == 1) {
			json_array_insert_new(parent, index,
			                      json_deep_copy(node)); /* a duplicate */
		} else {
			json_array_set_new(parent, index, replacement(&seed));
		}
	}
	text = json_dumps(root, JSON_COMPACT);
	if (text && strlen(text) <= max_size) {
		out = strlen(text);
		memcpy(data, text, out);
	} else {
		out = LLVMFuzzerMutate(data, size, max_size);
	}
	free(text);
	json_decref(root);
	return out;
}

#endif
#endif
