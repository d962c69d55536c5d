package vfs

import (
	"sort"

	"golang.org/x/sys/unix"
)

// Helpers for synthetic filesystems (procfs, sysfs, parts of /dev): inodes
// whose content is computed rather than stored. All are read-only except
// for their attributes.

// SyntheticFile is a regular file whose content is generated when it is
// opened, as seq_file-based proc files snapshot theirs: every open sees a
// consistent copy. It reports size 0, like procfs.
type SyntheticFile struct {
	InodeAttrs
	// Generate produces the content. Immutable.
	Generate func() ([]byte, error)
}

// NewSyntheticFile returns a synthetic file owned by root.
func NewSyntheticFile(ino uint64, perm uint32, gen func() ([]byte, error)) *SyntheticFile {
	f := &SyntheticFile{Generate: gen}
	f.Init(ino, unix.S_IFREG|perm&0o7777, 0, 0, 1, 0)
	return f
}

// Stat implements Inode.Stat.
func (f *SyntheticFile) Stat() (Stat, error) { return f.StatAttrs(), nil }

// SetStat implements Inode.SetStat; synthetic files cannot be truncated
// (EPERM, as procfs answers).
func (f *SyntheticFile) SetStat(_ Context, s SetStat) error {
	if s.Mask&unix.STATX_SIZE != 0 {
		return unix.EPERM
	}
	return f.SetStatNoSize(s)
}

// Open implements Inode.Open.
func (f *SyntheticFile) Open(_ Context, flags uint32) (FileImpl, FileOptions, error) {
	if flags&unix.O_ACCMODE != unix.O_RDONLY {
		return nil, FileOptions{}, unix.EACCES
	}
	data, err := f.Generate()
	if err != nil {
		return nil, FileOptions{}, err
	}
	return &BytesFile{Data: data}, FileOptions{}, nil
}

// BytesFile is an open read-only file over a fixed byte slice.
type BytesFile struct {
	FileDefaults
	// Data is immutable.
	Data []byte
}

// Read implements FileImpl.Read.
func (b *BytesFile) Read(_ Context, _ *FileDescription, dst []byte, off int64) (int, error) {
	if off >= int64(len(b.Data)) {
		return 0, nil
	}
	return copy(dst, b.Data[off:]), nil
}

// Seek lets lseek(SEEK_END) use the snapshot's length (the inode reports 0).
func (b *BytesFile) Seek(_ Context, pos, offset int64, whence int) (int64, error) {
	var n int64
	switch whence {
	case unix.SEEK_SET:
		n = offset
	case unix.SEEK_CUR:
		n = pos + offset
	case unix.SEEK_END:
		n = int64(len(b.Data)) + offset
	default:
		return 0, unix.EINVAL
	}
	if n < 0 {
		return 0, unix.EINVAL
	}
	return n, nil
}

// SyntheticSymlink is a symlink whose target is computed at each
// resolution (/proc/self, /proc/PID/exe).
type SyntheticSymlink struct {
	InodeAttrs
	// Target returns the current target. Immutable.
	Target func() (string, error)
}

// NewSyntheticSymlink returns a synthetic symlink owned by root.
func NewSyntheticSymlink(ino uint64, target func() (string, error)) *SyntheticSymlink {
	s := &SyntheticSymlink{Target: target}
	s.Init(ino, unix.S_IFLNK|0o777, 0, 0, 1, 0)
	return s
}

// Stat implements Inode.Stat; the size is the target's length.
func (s *SyntheticSymlink) Stat() (Stat, error) {
	st := s.StatAttrs()
	if t, err := s.Target(); err == nil {
		st.Size = int64(len(t))
	}
	return st, nil
}

// SetStat implements Inode.SetStat.
func (s *SyntheticSymlink) SetStat(_ Context, ss SetStat) error { return s.SetStatNoSize(ss) }

// Open implements Inode.Open; only O_PATH opens a symlink, which does
// not get here.
func (s *SyntheticSymlink) Open(Context, uint32) (FileImpl, FileOptions, error) {
	return nil, FileOptions{}, unix.ELOOP
}

// Readlink implements Readlinker.
func (s *SyntheticSymlink) Readlink() (string, error) { return s.Target() }

// SyntheticDirent is one entry of a SyntheticDir.
type SyntheticDirent struct {
	Name  string
	Inode Inode
}

// SyntheticDir is a read-only directory whose entries come from a function
// called at each lookup and listing. With Dynamic set, cached children are
// revalidated by looking them up again (for directories like /proc whose
// entries come and go).
type SyntheticDir struct {
	InodeAttrs
	// Entries returns the current entries. Immutable.
	Entries func() ([]SyntheticDirent, error)
	// LookupFn, if set, finds one entry faster than listing all of
	// them. Immutable.
	LookupFn func(name string) (Inode, error)
	// Dynamic makes cached children revalidate. Immutable.
	Dynamic bool
}

// NewStaticDir returns a synthetic directory with a fixed set of children,
// owned by root.
func NewStaticDir(ino uint64, perm uint32, children map[string]Inode) *SyntheticDir {
	ents := make([]SyntheticDirent, 0, len(children))
	for n, i := range children {
		ents = append(ents, SyntheticDirent{n, i})
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
	return NewSyntheticDir(ino, perm, func() ([]SyntheticDirent, error) { return ents, nil })
}

// NewSyntheticDir returns a synthetic directory listing entries().
func NewSyntheticDir(ino uint64, perm uint32, entries func() ([]SyntheticDirent, error)) *SyntheticDir {
	d := &SyntheticDir{Entries: entries}
	d.Init(ino, unix.S_IFDIR|perm&0o7777, 0, 0, 2, 0)
	return d
}

// Stat implements Inode.Stat.
func (d *SyntheticDir) Stat() (Stat, error) { return d.StatAttrs(), nil }

// SetStat implements Inode.SetStat.
func (d *SyntheticDir) SetStat(_ Context, s SetStat) error { return d.SetStatNoSize(s) }

// Open implements Inode.Open.
func (d *SyntheticDir) Open(Context, uint32) (FileImpl, FileOptions, error) {
	return DirFileDefaults{}, FileOptions{}, nil
}

// Lookup implements Lookuper.
func (d *SyntheticDir) Lookup(name string) (Inode, error) {
	if d.LookupFn != nil {
		return d.LookupFn(name)
	}
	ents, err := d.Entries()
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if e.Name == name {
			return e.Inode, nil
		}
	}
	return nil, unix.ENOENT
}

// Revalidate implements Revalidator for dynamic directories.
func (d *SyntheticDir) Revalidate(name string, child Inode) bool {
	if !d.Dynamic {
		return true
	}
	i, err := d.Lookup(name)
	return err == nil && i == child
}

// IterDirents implements DirIterator: entry i has cookie i+2.
func (d *SyntheticDir) IterDirents(off int64, emit func(Dirent) bool) error {
	ents, err := d.Entries()
	if err != nil {
		return err
	}
	for i := off - 2; i >= 0 && i < int64(len(ents)); i++ {
		e := ents[i]
		st, err := e.Inode.Stat()
		if err != nil {
			continue
		}
		if !emit(Dirent{Name: e.Name, Ino: st.Ino, Type: DirentType(st.Mode), NextOff: i + 3}) {
			return nil
		}
	}
	return nil
}

// SimpleFilesystem is a FilesystemImpl for synthetic filesystems.
type SimpleFilesystem struct {
	// FSName and Magic are immutable.
	FSName string
	Magic  uint64
}

// Name implements FilesystemImpl.
func (s *SimpleFilesystem) Name() string { return s.FSName }

// Statfs implements FilesystemImpl (an empty filesystem, as procfs
// reports).
func (s *SimpleFilesystem) Statfs() (Statfs, error) {
	return Statfs{Type: s.Magic, Bsize: 4096, Frsize: 4096, Namelen: NameMax}, nil
}
