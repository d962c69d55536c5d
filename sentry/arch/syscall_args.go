package arch

// SyscallArgument is one raw syscall argument with typed accessors.
type SyscallArgument struct {
	Value uintptr
}

// SyscallArguments are the six raw arguments of a syscall.
type SyscallArguments [6]SyscallArgument

// Pointer returns the argument as an app address.
func (a SyscallArgument) Pointer() uintptr { return a.Value }

// Int returns the argument as a C int (the low 32 bits, sign extended).
func (a SyscallArgument) Int() int32 { return int32(a.Value) }

// Uint returns the argument as a C unsigned int.
func (a SyscallArgument) Uint() uint32 { return uint32(a.Value) }

// Int64 returns the argument as a 64-bit signed value.
func (a SyscallArgument) Int64() int64 { return int64(a.Value) }

// Uint64 returns the argument as a 64-bit unsigned value.
func (a SyscallArgument) Uint64() uint64 { return uint64(a.Value) }

// SizeT returns the argument as a size_t.
func (a SyscallArgument) SizeT() uint { return uint(a.Value) }

// ModeT returns the argument as a mode_t.
func (a SyscallArgument) ModeT() uint32 { return uint32(a.Value) }
