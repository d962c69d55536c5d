// Package vfs is the sentry's virtual filesystem: path resolution, mounts,
// the dentry cache and open file descriptions. Filesystems implement small
// interfaces defined here.
package vfs

import "sync/atomic"

// FileDescription is an open file description (struct file in Linux).
// PLACEHOLDER: the VFS owner replaces this definition.
type FileDescription struct {
	refs atomic.Int64
}

// IncRef takes a reference.
func (f *FileDescription) IncRef() { f.refs.Add(1) }

// DecRef drops a reference, releasing the file at zero.
func (f *FileDescription) DecRef() { f.refs.Add(-1) }

// VirtualFilesystem is the sentry's mount tree and dentry cache.
// PLACEHOLDER: the VFS owner replaces this definition.
type VirtualFilesystem struct{}

// FSContext is a task's root, working directory and umask (struct
// fs_struct), shared between tasks created with CLONE_FS.
// PLACEHOLDER: the VFS owner replaces this definition.
type FSContext struct{}

// Fork returns a copy for a child created without CLONE_FS.
func (c *FSContext) Fork() *FSContext { return &FSContext{} }

// DecRef releases the context's references when a task drops it.
func (c *FSContext) DecRef() {}

// IncRef takes a reference for another task sharing the context.
func (c *FSContext) IncRef() {}
