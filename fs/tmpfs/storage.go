package tmpfs

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/memfile"
)

// pageSize is the unit of tmpfs storage and accounting.
const pageSize = memfile.PageSize

// pageAccount limits the pages of one filesystem instance.
type pageAccount interface {
	// charge reserves n pages, or returns false if the limit is reached.
	charge(n int64) bool
	// uncharge returns n pages.
	uncharge(n int64)
}

// fileData is a regular file's bytes: sparse pages of the sentry's memory
// file (shmem's page cache), so that read(2), write(2) and every mapping of
// the file, shared or private, see the same pages. Pages are allocated on
// first write or fault and hold one memory-file reference each, owned by
// the file; holes read as zeros. The owner serializes calls (the file's
// dataMu).
type fileData struct {
	// mf and acct are immutable.
	mf   *memfile.File
	acct pageAccount
	// pages maps a page index to the page's memory-file offset.
	pages map[int64]uint64
}

func newFileData(mf *memfile.File, acct pageAccount) fileData {
	return fileData{mf: mf, acct: acct, pages: make(map[int64]uint64)}
}

// readAt fills dst from offset off; holes read as zeros. The caller keeps
// the range within the file size.
func (d *fileData) readAt(dst []byte, off int64) {
	for len(dst) > 0 {
		idx, po := off/pageSize, off%pageSize
		n := min(int64(len(dst)), pageSize-po)
		if mo, ok := d.pages[idx]; ok {
			copy(dst[:n], d.mf.Slice(mo+uint64(po), uint64(n)))
		} else {
			clear(dst[:n])
		}
		dst = dst[n:]
		off += n
	}
}

// allocRun allocates the missing pages among [idx, idx+n), which must all
// be missing, as few memory-file ranges as the charge allows, and returns
// how many it allocated from idx on. ENOSPC when the filesystem is full
// (shmem_inode_acct_blocks()), ENOMEM when sandbox memory is.
func (d *fileData) allocRun(idx, n int64) (int64, error) {
	for n > 0 && !d.acct.charge(n) {
		// Fill up to the limit, as a write does before ENOSPC.
		n /= 2
	}
	if n == 0 {
		return 0, unix.ENOSPC
	}
	mo, err := d.mf.Allocate(uint64(n) * pageSize)
	if err != nil {
		d.acct.uncharge(n)
		return 0, unix.ENOMEM
	}
	for i := int64(0); i < n; i++ {
		d.pages[idx+i] = mo + uint64(i)*pageSize
	}
	return n, nil
}

// holeRun returns how many pages from idx on (at most max) are missing.
func (d *fileData) holeRun(idx, max int64) int64 {
	n := int64(0)
	for n < max {
		if _, ok := d.pages[idx+n]; ok {
			break
		}
		n++
	}
	return n
}

// writeAt stores src at off, allocating pages as needed. It returns how
// many bytes were stored and the error that stopped it (ENOSPC, ENOMEM).
func (d *fileData) writeAt(src []byte, off int64) (int, error) {
	done := 0
	for len(src) > 0 {
		idx, po := off/pageSize, off%pageSize
		mo, ok := d.pages[idx]
		if !ok {
			last := (off + int64(len(src)) - 1) / pageSize
			if _, err := d.allocRun(idx, d.holeRun(idx, last-idx+1)); err != nil {
				return done, err
			}
			mo = d.pages[idx]
		}
		n := min(int64(len(src)), pageSize-po)
		copy(d.mf.Slice(mo+uint64(po), uint64(n)), src[:n])
		src = src[n:]
		off += n
		done += int(n)
	}
	return done, nil
}

// allocate backs [off, off+length) with pages, so that later writes
// there cannot fail (fallocate mode 0). On failure the pages this call
// allocated are freed again, as shmem_fallocate() undoes them.
func (d *fileData) allocate(off, length int64) error {
	first, last := off/pageSize, (off+length-1)/pageSize
	var added []int64
	for idx := first; idx <= last; {
		if _, ok := d.pages[idx]; ok {
			idx++
			continue
		}
		n, err := d.allocRun(idx, d.holeRun(idx, last-idx+1))
		if err != nil {
			for _, i := range added {
				d.freePage(i)
			}
			return err
		}
		for i := idx; i < idx+n; i++ {
			added = append(added, i)
		}
		idx += n
	}
	return nil
}

// freePage drops page idx.
func (d *fileData) freePage(idx int64) {
	mo := d.pages[idx]
	delete(d.pages, idx)
	d.mf.DecRef(mo, pageSize)
	d.acct.uncharge(1)
}

// truncate drops the pages wholly at or beyond size and zeroes the tail of
// the last page, so that growing the file again reads zeros
// (shmem_undo_range()). Mappings of the dropped pages must already be
// invalidated.
func (d *fileData) truncate(size int64) {
	first := (size + pageSize - 1) / pageSize // first page wholly past size
	for idx := range d.pages {
		if idx >= first {
			d.freePage(idx)
		}
	}
	if po := size % pageSize; po != 0 {
		if mo, ok := d.pages[size/pageSize]; ok {
			clear(d.mf.Slice(mo+uint64(po), uint64(pageSize-po)))
		}
	}
}

// detach removes the pages wholly inside [off, off+length) from the file
// without freeing them and zeroes the parts of the edge pages in the
// range (shmem_truncate_range() for a hole). The caller frees the
// returned pages with free once no address space maps them.
func (d *fileData) detach(off, length int64) []uint64 {
	end := off + length
	first := (off + pageSize - 1) / pageSize
	last := end / pageSize // first page not wholly inside
	var out []uint64
	for idx, mo := range d.pages {
		if idx >= first && idx < last {
			delete(d.pages, idx)
			out = append(out, mo)
		}
	}
	zero := func(s, e int64) {
		if mo, ok := d.pages[s/pageSize]; ok && e > s {
			clear(d.mf.Slice(mo+uint64(s%pageSize), uint64(e-s)))
		}
	}
	if first > last {
		// Inside one page.
		zero(off, end)
		return out
	}
	zero(off, first*pageSize)
	zero(last*pageSize, end)
	return out
}

// free releases pages detached by detach.
func (d *fileData) free(pages []uint64) {
	for _, mo := range pages {
		d.mf.DecRef(mo, pageSize)
	}
	d.acct.uncharge(int64(len(pages)))
}

// count returns the number of allocated pages (for st_blocks).
func (d *fileData) count() int64 { return int64(len(d.pages)) }

// release frees everything (the inode is gone).
func (d *fileData) release() {
	for idx := range d.pages {
		d.freePage(idx)
	}
}

// translate returns the memory-file range backing the pages from idx on:
// the page at idx, allocated if it is a hole, and the pages after it that
// are already allocated and contiguous in the memory file, up to max
// pages. It does not allocate beyond idx, so a fault does not fill in a
// sparse file around the page touched.
func (d *fileData) translate(idx, max int64) (uint64, int64, error) {
	mo, ok := d.pages[idx]
	if !ok {
		if _, err := d.allocRun(idx, 1); err != nil {
			return 0, 0, err
		}
		mo = d.pages[idx]
	}
	n := int64(1)
	for n < max {
		next, ok := d.pages[idx+n]
		if !ok || next != mo+uint64(n)*pageSize {
			break
		}
		n++
	}
	return mo, n, nil
}
