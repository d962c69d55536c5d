package proc

import (
	"bytes"
	"fmt"

	"pangolin/fs/vfs"
)

// vmstatNames are the /proc/vmstat counters the sandbox shows, in the
// order of vmstat_text[] in mm/vmstat.c (the zone, node, NUMA and event
// counters programs look up by name; a counter missing from this list is
// one nothing we know of reads). Values the sandbox does not track are 0,
// as on a machine where the event never happened.
var vmstatNames = []string{
	"nr_free_pages", "nr_zone_inactive_anon", "nr_zone_active_anon",
	"nr_zone_inactive_file", "nr_zone_active_file", "nr_zone_unevictable",
	"nr_zone_write_pending", "nr_mlock", "nr_bounce", "nr_zspages", "nr_free_cma",
	"numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other",
	"nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
	"nr_unevictable", "nr_slab_reclaimable", "nr_slab_unreclaimable",
	"nr_isolated_anon", "nr_isolated_file", "workingset_nodes",
	"nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback",
	"nr_writeback_temp", "nr_shmem", "nr_shmem_hugepages", "nr_shmem_pmdmapped",
	"nr_file_hugepages", "nr_file_pmdmapped", "nr_anon_transparent_hugepages",
	"nr_vmscan_write", "nr_vmscan_immediate_reclaim", "nr_dirtied", "nr_written",
	"nr_kernel_misc_reclaimable", "nr_kernel_stack", "nr_page_table_pages",
	"nr_swapcached", "nr_dirty_threshold", "nr_dirty_background_threshold",
	"pgpgin", "pgpgout", "pswpin", "pswpout",
	"pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgalloc_movable",
	"pgfree", "pgactivate", "pgdeactivate", "pglazyfree", "pgfault", "pgmajfault",
	"pgrefill", "pgreuse", "pgsteal_kswapd", "pgsteal_direct", "pgscan_kswapd",
	"pgscan_direct", "pginodesteal", "slabs_scanned", "kswapd_inodesteal",
	"pageoutrun", "pgrotated", "drop_pagecache", "drop_slab", "oom_kill",
	"compact_stall", "compact_fail", "compact_success",
	"thp_fault_alloc", "thp_fault_fallback", "thp_collapse_alloc",
	"thp_split_page", "thp_zero_page_alloc", "swap_ra", "swap_ra_hit",
}

// genVmstat renders /proc/vmstat (vmstat_show()): "name value" lines.
// Free and anonymous pages come from the same figures as /proc/meminfo;
// the rest are 0.
func (fs *Filesystem) genVmstat(vfs.Context) ([]byte, error) {
	m := fs.memStats()
	vals := map[string]uint64{
		"nr_free_pages":       m.Free / pageSize,
		"nr_zone_active_anon": m.Anon / pageSize,
		"nr_active_anon":      m.Anon / pageSize,
		"nr_anon_pages":       m.Anon / pageSize,
	}
	var b bytes.Buffer
	for _, n := range vmstatNames {
		fmt.Fprintf(&b, "%s %d\n", n, vals[n])
	}
	return b.Bytes(), nil
}
