package ktime

// rdtsc returns the time stamp counter, ordered after every earlier
// instruction and before every later one (LFENCE on both sides), so that a
// seqcount reader's check of the sequence number really follows the read.
func rdtsc() uint64
