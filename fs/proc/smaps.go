package proc

import (
	"bytes"
	"fmt"

	"pangolin/fs/vfs"
	"pangolin/sentry/mm"
)

// genSmaps renders /proc/PID/smaps (show_smap() in fs/proc/task_mmu.c).
func (d *taskDir) genSmaps(vfs.Context) ([]byte, error) {
	m := d.memOf(d.task())
	if m == nil {
		return nil, nil
	}
	return formatSmaps(m.Smaps()), nil
}

// formatSmaps renders smaps entries: the maps line, then one "Label: N kB"
// row per counter (labels padded to 16 columns, values right-aligned in
// 8, as SEQ_PUT_DEC() and seq_put_decimal_ull_width() print them), in the
// order of current kernels. Counters the sandbox does not have (huge
// pages, KSM, swap, lazy-free, locked memory) are 0; every resident page
// counts as referenced.
func formatSmaps(entries []mm.SmapEntry) []byte {
	var b bytes.Buffer
	for i := range entries {
		e := &entries[i]
		b.WriteString(e.String())
		b.WriteByte('\n')
		kb := func(label string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", label+":", v>>10) }
		pss := e.Pss >> mm.PssShift
		pssDirty := e.PssDirty >> mm.PssShift
		kb("Size", uint64(e.End-e.Start))
		kb("KernelPageSize", pageSize)
		kb("MMUPageSize", pageSize)
		kb("Rss", e.Rss)
		kb("Pss", pss)
		kb("Pss_Dirty", pssDirty)
		kb("Shared_Clean", e.SharedClean)
		kb("Shared_Dirty", e.SharedDirty)
		kb("Private_Clean", e.PrivateClean)
		kb("Private_Dirty", e.PrivateDirty)
		kb("Referenced", e.Rss)
		kb("Anonymous", e.Anonymous)
		kb("KSM", 0)
		kb("LazyFree", 0)
		kb("AnonHugePages", 0)
		kb("ShmemPmdMapped", 0)
		kb("FilePmdMapped", 0)
		kb("Shared_Hugetlb", 0)
		kb("Private_Hugetlb", 0)
		kb("Swap", 0)
		kb("SwapPss", 0)
		kb("Locked", 0)
		fmt.Fprintf(&b, "%-16s%8d\n", "THPeligible:", 0)
		fmt.Fprintf(&b, "VmFlags: %s\n", e.VmFlags())
	}
	return b.Bytes()
}
