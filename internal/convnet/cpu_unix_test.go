//go:build unix

package convnet

import (
	"syscall"
	"time"
)

// cpuSeconds is the CPU time (user and system) the process has used. On a
// busy shared machine it tells the work done better than the wall clock.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
