package systrap

// The stub's code is in stub_amd64.s; these are its Go declarations (never
// called from Go except stubLayout and spinPause) and the layout of the
// memory it shares with the sentry.

func stubBegin()
func stubSyscall()
func stubCloneSyscallThread()
func stubSyscallThreadInit()
func stubSyscallLoop()
func stubThreadInit()
func stubHandler()
func stubRestorer()
func stubEnd()

// stubLayout returns the link addresses of the stub's entry points.
func stubLayout() (begin, syscall, cloneSyscallThread, handler, restorer, end uintptr)

// spinPause executes one PAUSE instruction.
func spinPause()

// Shared memory of one address space (a slot of the platform's memfd),
// mapped in the stub at stubShared = stubStart - slotSize:
//
//	[0, 4 KiB)          request page, read-only in the stub (req*)
//	[4 KiB, 8 KiB)      reply page (rep*)
//	[16 KiB*(1+i), +16 KiB)  thread region i: control block (ctl*) and the
//	                    thread's alternate signal stack
const (
	pageSize   = 0x1000
	regionSize = 0x4000 // must match REGION_MASK in stub_amd64.s
	maxThreads = 511    // app threads per address space
	slotSize   = regionSize * (1 + maxThreads)

	// Request page (REQ_* in stub_amd64.s).
	reqSeq       = 0
	reqNr        = 8
	reqArgs      = 16
	reqR14       = 64
	reqSigaction = 128 // struct sigaction of the handler (kernel layout, 32 bytes)
	reqSigmask   = 160 // sigset of the syscall thread (8 bytes)
	reqMapLen    = 168 // mmap of the read-write part of the slot: length,
	reqMapFD     = 176 // memfd,
	reqMapOff    = 184 // and file offset
	reqSignals   = 192 // signals to install the handler for (bytes, 0-terminated)
	reqFprog     = 256 // struct sock_fprog of the app-thread filter
	reqProg      = 512 // its instructions
	reqProgMax   = pageSize - reqProg

	// Reply page (offset from the slot).
	repPage = pageSize
	repDone = 0
	repRet  = 8

	// Control block at the start of each thread region.
	ctlState    = 0  // u32 state word (futex; CLONE_CHILD_CLEARTID target)
	ctlCmd      = 4  // u32 command from the sentry (cmdExit)
	ctlUC       = 8  // ucontext of the current event (stub address)
	ctlSI       = 16 // siginfo of the current event
	ctlSigno    = 24 // signal number of the current event
	ctlFS       = 32 // FS base: the app's at the event, the one to set on resume
	ctlGS       = 40 // GS base, likewise
	ctlFSGSBase = 48 // byte: 1 if the handler may use RD/WR{FS,GS}BASE
	ctlSpin     = 52 // u32: the handler's adaptive spin budget
	ctlProbe    = 56 // u32: the handler's count of waits at the floor
	ctlStack    = 64 // stack_t for sigaltstack (24 bytes)
	ctlSize     = 128

	// altStack is where the alternate signal stack starts in a region.
	altStack = pageSize
)

// Thread states (the u32 at ctlState). The stub and the sentry hand the
// thread back and forth: the sentry sets stateResume to run app code, the
// handler sets stateEvent when it traps; either side that goes to sleep
// first announces it (stateSleeping: the sentry, stateHSleep: the handler)
// so that the other wakes it. The kernel writes stateDead (0) when the
// thread exits (CLONE_CHILD_CLEARTID) and wakes any waiter.
const (
	stateDead     = 0
	stateResume   = 1
	stateSleeping = 2
	stateEvent    = 3
	stateHSleep   = 4

	cmdExit = 1
)
