//go:build amd64 && !purego

package pow

import "golang.org/x/sys/cpu"

// hasSHANI reports whether this CPU has the SHA extensions (CPUID leaf 7,
// EBX bit 29) and the SSE4.1/SSSE3/AVX the fast path also uses.
var hasSHANI = func() bool {
	if max, _, _, _ := cpuid(0, 0); max < 7 {
		return false
	}
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&(1<<29) != 0 && cpu.X86.HasSSE41 && cpu.X86.HasSSSE3 && cpu.X86.HasAVX
}()

// sha256dSHANI computes SHA-256d of a header: one compression of tail on the
// midstate mid, then one of the padded digest, writing the result to out.
//
//go:noescape
func sha256dSHANI(mid *[8]uint32, tail *[16]uint32, out *[8]uint32)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)
