//go:build !amd64 || purego

package f32

// archImpls is empty: only the portable kernels exist on this platform.
var archImpls []*impl
