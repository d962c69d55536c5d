package loader

// Auxiliary vector keys (include/uapi/linux/auxvec.h); x/sys/unix does not
// export them.
const (
	atNull     = 0
	atPhdr     = 3
	atPhent    = 4
	atPhnum    = 5
	atPagesz   = 6
	atBase     = 7
	atFlags    = 8
	atEntry    = 9
	atUID      = 11
	atEUID     = 12
	atGID      = 13
	atEGID     = 14
	atPlatform = 15
	atHwcap    = 16
	atClktck   = 17
	atSecure   = 23
	atRandom   = 25
	atHwcap2   = 26
	atExecfn   = 31

	atSysinfoEhdr = 33
)
