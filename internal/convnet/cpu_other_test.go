//go:build !unix

package convnet

// cpuSeconds is not measured here.
func cpuSeconds() float64 { return 0 }
