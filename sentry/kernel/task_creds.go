package kernel

import (
	"golang.org/x/sys/unix"

	"pangolin/sentry/auth"
)

// Credential changes (kernel/sys.c, kernel/groups.c, kernel/capability.c,
// security/commoncap.c). Credentials are per thread, as in Linux; glibc
// makes setuid(3) and friends process-wide by running the syscall in every
// thread (its SIGSETXID broadcast), which works unchanged here.
//
// Every change copies the credentials (auth.Credentials.Fork), adjusts the
// copy and publishes it with SetCredentials, so readers never lock.

// capFSMask are the capabilities tied to the filesystem UID
// (CAP_FS_MASK): chown, dac_override, dac_read_search, fowner, fsetid,
// linux_immutable, mknod, mac_override.
const capFSMask = 1<<auth.CapChown | 1<<auth.CapDacOverride | 1<<auth.CapDacReadSearch |
	1<<auth.CapFowner | 1<<auth.CapFsetid | 1<<9 | 1<<27 | 1<<32

// Capability numbers used here (include/uapi/linux/capability.h).
const (
	capSetpcap = 8
)

// validID reports whether id can be a UID or GID: (uid_t)-1 cannot.
func validID(id uint32) bool { return id != auth.NoID }

// fixSetuid applies the capability side effects of a UID change
// (cap_task_fix_setuid() and cap_emulate_setxuid()).
func fixSetuid(old, n *auth.Credentials) {
	rootBefore := old.RealUID == 0 || old.EffectiveUID == 0 || old.SavedUID == 0
	rootAfter := n.RealUID == 0 || n.EffectiveUID == 0 || n.SavedUID == 0
	if rootBefore && !rootAfter && !n.KeepCaps {
		n.PermittedCaps = 0
		n.EffectiveCaps = 0
		n.AmbientCaps = 0
	}
	if old.EffectiveUID == 0 && n.EffectiveUID != 0 {
		n.EffectiveCaps = 0
	}
	if old.EffectiveUID != 0 && n.EffectiveUID == 0 {
		n.EffectiveCaps = n.PermittedCaps
	}
	fixSetfsuid(old, n)
}

// fixSetfsuid drops or raises the filesystem capabilities when the fsuid
// leaves or becomes 0.
func fixSetfsuid(old, n *auth.Credentials) {
	if old.FSUID == 0 && n.FSUID != 0 {
		n.EffectiveCaps &^= capFSMask
	}
	if old.FSUID != 0 && n.FSUID == 0 {
		n.EffectiveCaps |= n.PermittedCaps & capFSMask
	}
}

// Setuid implements setuid(2).
func (t *Task) Setuid(uid uint32) error {
	if !validID(uid) {
		return unix.EINVAL
	}
	old := t.creds
	n := old.Fork()
	switch {
	case old.HasCapability(auth.CapSetuid):
		n.RealUID, n.SavedUID = uid, uid
	case uid == old.RealUID || uid == old.SavedUID:
	default:
		return unix.EPERM
	}
	n.EffectiveUID, n.FSUID = uid, uid
	fixSetuid(old, n)
	t.SetCredentials(n)
	return nil
}

// Setreuid implements setreuid(2); NoID leaves an ID unchanged.
func (t *Task) Setreuid(ruid, euid uint32) error {
	old := t.creds
	n := old.Fork()
	priv := old.HasCapability(auth.CapSetuid)
	if ruid != auth.NoID {
		if !priv && ruid != old.RealUID && ruid != old.EffectiveUID {
			return unix.EPERM
		}
		n.RealUID = ruid
	}
	if euid != auth.NoID {
		if !priv && euid != old.RealUID && euid != old.EffectiveUID && euid != old.SavedUID {
			return unix.EPERM
		}
		n.EffectiveUID = euid
	}
	if ruid != auth.NoID || euid != auth.NoID && euid != old.RealUID {
		n.SavedUID = n.EffectiveUID
	}
	n.FSUID = n.EffectiveUID
	fixSetuid(old, n)
	t.SetCredentials(n)
	return nil
}

// Setresuid implements setresuid(2); NoID leaves an ID unchanged.
func (t *Task) Setresuid(ruid, euid, suid uint32) error {
	old := t.creds
	n := old.Fork()
	priv := old.HasCapability(auth.CapSetuid)
	ok := func(id uint32) bool {
		return priv || id == old.RealUID || id == old.EffectiveUID || id == old.SavedUID
	}
	for _, id := range []uint32{ruid, euid, suid} {
		if id != auth.NoID && !ok(id) {
			return unix.EPERM
		}
	}
	if ruid != auth.NoID {
		n.RealUID = ruid
	}
	if euid != auth.NoID {
		n.EffectiveUID = euid
	}
	if suid != auth.NoID {
		n.SavedUID = suid
	}
	n.FSUID = n.EffectiveUID
	fixSetuid(old, n)
	t.SetCredentials(n)
	return nil
}

// Setfsuid implements setfsuid(2): it always returns the old fsuid and
// changes it only if allowed.
func (t *Task) Setfsuid(uid uint32) uint32 {
	old := t.creds
	prev := old.FSUID
	if !validID(uid) {
		return prev
	}
	if uid == old.RealUID || uid == old.EffectiveUID || uid == old.SavedUID || uid == old.FSUID ||
		old.HasCapability(auth.CapSetuid) {
		if uid != prev {
			n := old.Fork()
			n.FSUID = uid
			fixSetfsuid(old, n)
			t.SetCredentials(n)
		}
	}
	return prev
}

// Setgid implements setgid(2).
func (t *Task) Setgid(gid uint32) error {
	if !validID(gid) {
		return unix.EINVAL
	}
	old := t.creds
	n := old.Fork()
	switch {
	case old.HasCapability(auth.CapSetgid):
		n.RealGID, n.SavedGID = gid, gid
	case gid == old.RealGID || gid == old.SavedGID:
	default:
		return unix.EPERM
	}
	n.EffectiveGID, n.FSGID = gid, gid
	t.SetCredentials(n)
	return nil
}

// Setregid implements setregid(2).
func (t *Task) Setregid(rgid, egid uint32) error {
	old := t.creds
	n := old.Fork()
	priv := old.HasCapability(auth.CapSetgid)
	if rgid != auth.NoID {
		if !priv && rgid != old.RealGID && rgid != old.EffectiveGID {
			return unix.EPERM
		}
		n.RealGID = rgid
	}
	if egid != auth.NoID {
		if !priv && egid != old.RealGID && egid != old.EffectiveGID && egid != old.SavedGID {
			return unix.EPERM
		}
		n.EffectiveGID = egid
	}
	if rgid != auth.NoID || egid != auth.NoID && egid != old.RealGID {
		n.SavedGID = n.EffectiveGID
	}
	n.FSGID = n.EffectiveGID
	t.SetCredentials(n)
	return nil
}

// Setresgid implements setresgid(2).
func (t *Task) Setresgid(rgid, egid, sgid uint32) error {
	old := t.creds
	n := old.Fork()
	priv := old.HasCapability(auth.CapSetgid)
	for _, id := range []uint32{rgid, egid, sgid} {
		if id != auth.NoID && !priv && id != old.RealGID && id != old.EffectiveGID && id != old.SavedGID {
			return unix.EPERM
		}
	}
	if rgid != auth.NoID {
		n.RealGID = rgid
	}
	if egid != auth.NoID {
		n.EffectiveGID = egid
	}
	if sgid != auth.NoID {
		n.SavedGID = sgid
	}
	n.FSGID = n.EffectiveGID
	t.SetCredentials(n)
	return nil
}

// Setfsgid implements setfsgid(2).
func (t *Task) Setfsgid(gid uint32) uint32 {
	old := t.creds
	prev := old.FSGID
	if !validID(gid) {
		return prev
	}
	if gid == old.RealGID || gid == old.EffectiveGID || gid == old.SavedGID || gid == old.FSGID ||
		old.HasCapability(auth.CapSetgid) {
		if gid != prev {
			n := old.Fork()
			n.FSGID = gid
			t.SetCredentials(n)
		}
	}
	return prev
}

// NGroupsMax is NGROUPS_MAX.
const NGroupsMax = 65536

// Setgroups implements setgroups(2).
func (t *Task) Setgroups(gids []uint32) error {
	if !t.creds.HasCapability(auth.CapSetgid) {
		return unix.EPERM
	}
	n := t.creds.Fork()
	n.ExtraGIDs = append([]uint32(nil), gids...)
	t.SetCredentials(n)
	return nil
}

// SetKeepCaps implements PR_SET_KEEPCAPS.
func (t *Task) SetKeepCaps(keep bool) {
	n := t.creds.Fork()
	n.KeepCaps = keep
	t.SetCredentials(n)
}

// Capabilities are one task's three capability sets as capget(2) reports
// them.
type Capabilities struct {
	Effective, Permitted, Inheritable uint64
}

// Capset implements capset(2) for the calling thread (cap_capset()): the
// new inheritable set may only add capabilities from the bounding set (with
// CAP_SETPCAP) or the permitted set, permitted may only shrink, and
// effective must stay within the new permitted set.
func (t *Task) Capset(c Capabilities) error {
	// Bits past the last capability are ignored (CAP_VALID_MASK).
	c.Effective &= auth.AllCapabilities
	c.Permitted &= auth.AllCapabilities
	c.Inheritable &= auth.AllCapabilities
	old := t.creds
	allowedInh := old.InheritableCaps | old.PermittedCaps
	if old.HasCapability(capSetpcap) {
		allowedInh = old.InheritableCaps | old.BoundingCaps
	}
	if c.Inheritable&^allowedInh != 0 || c.Inheritable&^(old.InheritableCaps|old.BoundingCaps) != 0 {
		return unix.EPERM
	}
	if c.Permitted&^old.PermittedCaps != 0 || c.Effective&^c.Permitted != 0 {
		return unix.EPERM
	}
	n := old.Fork()
	n.EffectiveCaps, n.PermittedCaps, n.InheritableCaps = c.Effective, c.Permitted, c.Inheritable
	// Ambient capabilities must stay in permitted and inheritable.
	n.AmbientCaps &= n.PermittedCaps & n.InheritableCaps
	t.SetCredentials(n)
	return nil
}

// DropBoundingCap implements PR_CAPBSET_DROP (CAP_SETPCAP required).
func (t *Task) DropBoundingCap(cp int) error {
	if cp < 0 || cp > auth.CapLastCap {
		return unix.EINVAL
	}
	if !t.creds.HasCapability(capSetpcap) {
		return unix.EPERM
	}
	n := t.creds.Fork()
	n.BoundingCaps &^= 1 << uint(cp)
	t.SetCredentials(n)
	return nil
}

// execCreds computes the credentials of the image execve is loading
// (bprm_fill_uid() and cap_bprm_creds_from_file()): a set-user-ID or
// set-group-ID binary on a mount without nosuid, and without no_new_privs,
// changes the effective (and saved) IDs; root (real or effective) gets
// the full permitted set and, if effective root, the effective set; others
// keep only their ambient capabilities. secure is AT_SECURE.
func (t *Task) execCreds(mode, fileUID, fileGID uint32, nosuid bool) (n *auth.Credentials, secure bool) {
	old := t.creds
	n = old.Fork()
	n.KeepCaps = false
	if !nosuid && !t.noNewPrivs.Load() {
		if mode&unix.S_ISUID != 0 {
			n.EffectiveUID = fileUID
		}
		if mode&unix.S_ISGID != 0 && mode&unix.S_IXGRP != 0 {
			n.EffectiveGID = fileGID
		}
	}
	n.SavedUID, n.FSUID = n.EffectiveUID, n.EffectiveUID
	n.SavedGID, n.FSGID = n.EffectiveGID, n.EffectiveGID
	if n.EffectiveUID != old.RealUID {
		// A set-user-ID binary drops the ambient set
		// (cap_bprm_creds_from_file()).
		n.AmbientCaps = 0
	}
	if n.RealUID == 0 || n.EffectiveUID == 0 {
		// Root gets every capability the bounding set allows (the
		// "fP = all" emulation for uid 0).
		n.PermittedCaps = n.BoundingCaps | n.InheritableCaps
		if n.EffectiveUID == 0 {
			n.EffectiveCaps = n.PermittedCaps
		} else {
			n.EffectiveCaps = 0
		}
	} else {
		n.PermittedCaps = n.AmbientCaps
		n.EffectiveCaps = n.AmbientCaps
	}
	secure = n.EffectiveUID != old.RealUID || n.EffectiveGID != old.RealGID ||
		n.PermittedCaps&^old.PermittedCaps != 0 && old.RealUID != 0
	return n, secure
}
