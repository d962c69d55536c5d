package systrap

import "golang.org/x/sys/unix"

// atHWCAP2 is AT_HWCAP2 (include/uapi/linux/auxvec.h).
const atHWCAP2 = 26

// hwcap2 returns the process's AT_HWCAP2, from the auxiliary vector the Go
// runtime kept (no file is read).
func hwcap2() uint64 {
	av, err := unix.Auxv()
	if err != nil {
		return 0
	}
	for _, kv := range av {
		if kv[0] == atHWCAP2 {
			return uint64(kv[1])
		}
	}
	return 0
}
