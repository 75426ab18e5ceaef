/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line as Linux 6.1's parsers read it: every occurrence counts, item by item, the
 * prefix matches of intel_iommu_setup(), parse_amd_iommu_options(), iommu_setup() and
 * setup_irqremap(); libkmod's modprobe.blacklist accumulates; string parameters keep the last.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "analyse/analyse.h"
#include "collect/collect.h"

static json_t *opts(const char *cmdline)
{
	json_t *t = snap_parse__cmdline(cmdline), *o = snap_parse__cmdline_options(t);

	json_decref(t);
	cr_assert_not_null(o);
	return o;
}

Test(cmdline, intel_iommu_last_on_or_off_of_all_items)
{
	json_t *o = opts("intel_iommu=on quiet intel_iommu=igfx_off");

	cr_assert_eq(snap_cmdline__intel_iommu(o), SNAP_YES, "igfx_off keeps the IOMMU on");
	json_decref(o);
	o = opts("intel_iommu=on,sm_on intel_iommu=off");
	cr_assert_eq(snap_cmdline__intel_iommu(o), SNAP_NO);
	json_decref(o);
	o = opts("intel_iommu=off,on");
	cr_assert_eq(snap_cmdline__intel_iommu(o), SNAP_YES);
	json_decref(o);
	o = opts("intel_iommu=igfx_off");
	cr_assert_eq(snap_cmdline__intel_iommu(o), SNAP_UNKNOWN, "neither: the kernel's default");
	json_decref(o);
}

Test(cmdline, amd_iommu_off_anywhere_is_off)
{
	json_t *o = opts("amd_iommu=off quiet amd_iommu=fullflush");

	cr_assert(snap_cmdline__amd_iommu_off(o), "nothing clears amd_iommu_disabled");
	json_decref(o);
	o = opts("amd_iommu=fullflush,force_isolation");
	cr_assert(!snap_cmdline__amd_iommu_off(o));
	json_decref(o);
}

Test(cmdline, iommu_off_and_intremap)
{
	json_t *o = opts("iommu=pt iommu=off,nomerge intremap=off intremap=on");

	cr_assert(snap_cmdline__iommu_off(o));
	cr_assert_eq(snap_cmdline__intremap(o), SNAP_YES, "the last of on/off wins");
	json_decref(o);
	o = opts("intremap=on nointremap");
	cr_assert_eq(snap_cmdline__intremap(o), SNAP_NO, "nointremap at its place");
	json_decref(o);
}

Test(cmdline, vendor_blind_options_mean_nothing_to_the_other_vendor)
{
	json_t *o = opts("intel_iommu=off amd_iommu=on");
	const char *why = NULL;

	cr_assert(!snap_cmdline__iommu_disabled(o, "amd", &why), "intel_iommu= on an AMD host");
	cr_assert(snap_cmdline__iommu_disabled(o, "intel", &why));
	cr_assert_str_eq(why, "intel_iommu=off");
	cr_assert(snap_cmdline__iommu_disabled(o, NULL, &why), "vendor unknown: either");
	json_decref(o);
	o = opts("amd_iommu=off");
	cr_assert(!snap_cmdline__iommu_disabled(o, "intel", &why));
	cr_assert(snap_cmdline__iommu_disabled(o, "amd", &why));
	json_decref(o);
}

Test(cmdline, blacklists_accumulate_or_keep_the_last)
{
	json_t *o = opts("modprobe.blacklist=nouveau quiet modprobe.blacklist=amdgpu,radeon "
	                 "module_blacklist=a module_blacklist=b vfio-pci.ids=1:2 vfio-pci.ids=3:4");
	const json_t *bl = json_object_get(o, "modprobe.blacklist");

	cr_assert_eq(json_array_size(bl), 3, "libkmod adds every modprobe.blacklist= item");
	cr_assert_str_eq(json_string_value(json_array_get(bl, 2)), "radeon");
	cr_assert_eq(json_array_size(json_object_get(o, "module_blacklist")), 1,
	             "module_blacklist is a charp core_param: the last one is kept");
	cr_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(o, "module_blacklist"), 0)), "b");
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(o, "vfio-pci.ids"), 0)),
	                 "3:4");
	json_decref(o);
}

Test(cmdline, risky_is_what_the_kernel_does_not_a_substring)
{
	json_t *o = opts("intel_iommu=on,igfx_off"), *r = snap_cmdline__risky(o, "intel");

	cr_assert_eq(json_array_size(r), 0, "igfx_off is no IOMMU off");
	json_decref(r);
	json_decref(o);
	o = opts("intel_iommu=off");
	r = snap_cmdline__risky(o, "amd");
	cr_assert_eq(json_array_size(r), 0, "intel_iommu=off is nothing to an AMD host");
	json_decref(r);
	json_decref(o);
}
