package vfs

import "golang.org/x/sys/unix"

// Device is a character device driver (struct cdev). Opening any character
// device node, on any filesystem, dispatches on its rdev to the registered
// Device (chrdev_open()), so filesystems only store device nodes.
type Device interface {
	// Open returns the implementation of a new open file for the node
	// at vd.
	Open(ctx Context, vd VirtualDentry, flags uint32) (FileImpl, FileOptions, error)
}

// RegisterCharDevice installs dev for major:minor (register_chrdev_region()).
// A later registration replaces an earlier one.
func (v *VirtualFilesystem) RegisterCharDevice(major, minor uint32, dev Device) {
	v.devMu.Lock()
	defer v.devMu.Unlock()
	v.devices[unix.Mkdev(major, minor)] = dev
}

// charDevice returns the driver for rdev, or nil.
func (v *VirtualFilesystem) charDevice(rdev uint64) Device {
	v.devMu.RLock()
	defer v.devMu.RUnlock()
	return v.devices[rdev]
}
