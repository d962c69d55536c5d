package overlay

import (
	"sort"

	"golang.org/x/sys/unix"

	"pangolin/fs/vfs"
)

// IterDirents implements vfs.DirIterator.
//
// A directory without a lower layer has nothing to merge: the upper
// directory's listing and cookies are passed through. Otherwise the merged
// listing (upper entries, then lower entries not covered by an upper entry
// or a whiteout, as ovl_dir_read_merged() orders them) is snapshotted when
// an iteration starts (off 2) and after any change, and every name keeps a
// cookie of its own for as long as it exists, so an iteration that spans
// several getdents(2) calls never skips or repeats an entry that stays in
// the directory, even if the snapshot is rebuilt in between. (overlayfs
// keeps its merged cache per open file; the DirIterator interface has no
// open file, so the cookies are per name instead.)
func (n *node) IterDirents(off int64, emit func(vfs.Dirent) bool) error {
	if !n.isDir() {
		return unix.ENOTDIR
	}
	if n.lower == nil {
		it, ok := n.upperLayer().inode.(vfs.DirIterator)
		if !ok {
			return unix.ENOTDIR
		}
		fs := n.fs
		return it.IterDirents(off, func(d vfs.Dirent) bool {
			d.Ino = fs.upperIno(d.Ino)
			return emit(d)
		})
	}
	n.mu.Lock()
	if n.removed {
		n.mu.Unlock()
		return nil
	}
	if off <= 2 || n.snap == nil {
		if err := n.snapshotLocked(); err != nil {
			n.mu.Unlock()
			return err
		}
	}
	snap := n.snap
	n.mu.Unlock()
	i := sort.Search(len(snap), func(i int) bool { return snap[i].NextOff > off })
	for ; i < len(snap); i++ {
		if !emit(snap[i]) {
			break
		}
	}
	return nil
}

// snapshotLocked rebuilds n.snap from the layers.
//
// Preconditions: n.mu is held; n is a directory with a lower layer.
// +checklocks:n.mu
func (n *node) snapshotLocked() error {
	ents, err := n.mergedLocked()
	if err != nil {
		return err
	}
	if n.nextSerial < 2 {
		n.nextSerial = 2
	}
	serials := make(map[string]int64, len(ents))
	for i := range ents {
		s, ok := n.serials[ents[i].Name]
		if !ok {
			s = n.nextSerial
			n.nextSerial++
		}
		serials[ents[i].Name] = s
		ents[i].NextOff = s + 1
	}
	// Names that disappeared give up their cookies.
	n.serials = serials
	sort.Slice(ents, func(i, j int) bool { return ents[i].NextOff < ents[j].NextOff })
	n.snap = ents
	return nil
}

// mergedLocked lists the merged directory (NextOff unset): every upper
// entry, then the lower entries that no upper entry or whiteout covers,
// with inode numbers as Stat reports them (overlayfs translates d_ino the
// same way, ovl_cache_update_ino()).
//
// Preconditions: n.mu is held; n is a directory.
func (n *node) mergedLocked() ([]vfs.Dirent, error) {
	fs := n.fs
	var ents []vfs.Dirent
	// upperIdx maps the names of upper entries to their index in ents;
	// their Ino is still the upper layer's until the end.
	upperIdx := make(map[string]int)
	var whiteouts map[string]struct{}
	if up := n.upperLayer(); up != nil {
		it, ok := up.inode.(vfs.DirIterator)
		if !ok {
			return nil, unix.ENOTDIR
		}
		err := it.IterDirents(2, func(d vfs.Dirent) bool {
			upperIdx[d.Name] = len(ents)
			d.NextOff = 0
			ents = append(ents, d)
			return true
		})
		if err != nil {
			return nil, err
		}
		whiteouts = fs.whiteouts(up.ino)
	}
	nUpper := len(ents)
	// merged marks upper entries that are directories merged with a
	// lower directory: like Lookup, they show the lower inode number.
	merged := make(map[int]bool)
	if n.lower != nil {
		it, ok := n.lower.(vfs.DirIterator)
		if !ok {
			return nil, unix.ENOTDIR
		}
		seenLower := make(map[string]struct{})
		err := it.IterDirents(2, func(d vfs.Dirent) bool {
			if i, ok := upperIdx[d.Name]; ok {
				if d.Type == vfs.DTDir && ents[i].Type == vfs.DTDir && !fs.isOpaque(ents[i].Ino) {
					ents[i].Ino = d.Ino
					merged[i] = true
				}
				return true
			}
			if _, ok := whiteouts[d.Name]; ok {
				return true
			}
			// A lower listing has no duplicates of its own, but
			// guard against one so the merged view never shows a
			// name twice.
			if _, ok := seenLower[d.Name]; ok {
				return true
			}
			seenLower[d.Name] = struct{}{}
			d.NextOff = 0
			ents = append(ents, d)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	for i := 0; i < nUpper; i++ {
		if !merged[i] {
			ents[i].Ino = fs.upperIno(ents[i].Ino)
		}
	}
	return ents, nil
}

// emptyLocked reports whether the merged directory has no entries
// (ovl_check_empty_dir(): whiteouts do not count).
//
// Preconditions: n.mu is held; n is a directory.
func (n *node) emptyLocked() (bool, error) {
	ents, err := n.mergedLocked()
	if err != nil {
		return false, err
	}
	return len(ents) == 0, nil
}
