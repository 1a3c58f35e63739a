//go:build !unix

package main

import (
	"os"
	"time"
)

// selfCPUTime is only implemented on Unix; elsewhere CPU use reads as zero.
func selfCPUTime() time.Duration { return 0 }

// peakRSS is only implemented on Unix; elsewhere memory reads as zero.
func peakRSS(ps *os.ProcessState) int64 { return 0 }
