// Package memfile is the sentry's memory file: one memfd backing all
// anonymous and tmpfs memory, mapped into the sentry for copy-in/out and into
// app address spaces by the platform.
package memfile

// File is the memory file.
type File struct {
	fd int
}

// FD returns the host memfd.
func (f *File) FD() int { return f.fd }
