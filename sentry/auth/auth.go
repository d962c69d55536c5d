// Package auth holds task credentials: user and group IDs and capabilities,
// with the permission checks the VFS and kernel share.
package auth

// Capability numbers used by permission checks (linux/capability.h).
const (
	CapChown          = 0
	CapDacOverride    = 1
	CapDacReadSearch  = 2
	CapFowner         = 3
	CapFsetid         = 4
	CapKill           = 5
	CapSetgid         = 6
	CapSetuid         = 7
	CapSysPtrace      = 19
	CapSysAdmin       = 21
	CapSysResource    = 24
	CapLastCap        = 40
	AllCapabilities   = uint64(1)<<(CapLastCap+1) - 1
	OverflowUID       = 65534
	OverflowGID       = 65534
	NoID              = ^uint32(0)
	defaultCapability = AllCapabilities
)

// Credentials are a task's identity. They are immutable once published:
// changing them makes a copy (as struct cred does in Linux), so readers need
// no lock.
type Credentials struct {
	RealUID, EffectiveUID, SavedUID, FSUID uint32
	RealGID, EffectiveGID, SavedGID, FSGID uint32
	ExtraGIDs                              []uint32

	PermittedCaps, InheritableCaps, EffectiveCaps, BoundingCaps, AmbientCaps uint64

	// KeepCaps is PR_SET_KEEPCAPS (SECBIT_KEEP_CAPS): a UID change away
	// from root keeps the permitted set. Cleared by execve.
	KeepCaps bool
}

// NewRootCredentials returns credentials for uid 0 with every capability, as
// the sandbox's init starts with when the spec asks for root.
func NewRootCredentials() *Credentials {
	return &Credentials{
		PermittedCaps: defaultCapability,
		EffectiveCaps: defaultCapability,
		BoundingCaps:  defaultCapability,
	}
}

// NewUserCredentials returns credentials for a non-root uid/gid with no
// capabilities.
func NewUserCredentials(uid, gid uint32, extra []uint32) *Credentials {
	c := &Credentials{
		RealUID: uid, EffectiveUID: uid, SavedUID: uid, FSUID: uid,
		RealGID: gid, EffectiveGID: gid, SavedGID: gid, FSGID: gid,
		ExtraGIDs:    append([]uint32(nil), extra...),
		BoundingCaps: defaultCapability,
	}
	if uid == 0 {
		c.PermittedCaps = defaultCapability
		c.EffectiveCaps = defaultCapability
	}
	return c
}

// Fork returns a copy of c that may be modified before being published.
func (c *Credentials) Fork() *Credentials {
	n := *c
	n.ExtraGIDs = append([]uint32(nil), c.ExtraGIDs...)
	return &n
}

// HasCapability reports whether cap is in the effective set.
func (c *Credentials) HasCapability(cp int) bool {
	return c.EffectiveCaps&(uint64(1)<<uint(cp)) != 0
}

// InGroup reports whether gid is the fsgid or a supplementary group
// (in_group_p() in kernel/groups.c).
func (c *Credentials) InGroup(gid uint32) bool {
	if gid == c.FSGID {
		return true
	}
	for _, g := range c.ExtraGIDs {
		if g == gid {
			return true
		}
	}
	return false
}

// Access bits for CheckPermission (MAY_* in include/linux/fs.h).
const (
	MayExec  = 1
	MayWrite = 2
	MayRead  = 4
)

// CheckPermission implements the classic Unix permission check on a file
// with the given mode and owner, including the CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH exemptions (generic_permission() in fs/namei.c).
// It returns true if access is allowed.
func (c *Credentials) CheckPermission(mode uint32, uid, gid uint32, isDir bool, want int) bool {
	perm := mode & 07
	if c.FSUID == uid {
		perm = (mode >> 6) & 07
	} else if c.InGroup(gid) {
		perm = (mode >> 3) & 07
	}
	if uint32(want)&^perm == 0 {
		return true
	}
	if c.HasCapability(CapDacOverride) {
		// Exec needs at least one x bit on non-directories.
		if want&MayExec == 0 || isDir || mode&0111 != 0 {
			return true
		}
	}
	if c.HasCapability(CapDacReadSearch) {
		if want == MayRead || (isDir && want&MayWrite == 0) {
			return true
		}
	}
	return false
}
