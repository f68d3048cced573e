//go:build !amd64 || purego

package pow

const hasSHANI = false

func sha256dSHANI(mid *[8]uint32, tail *[16]uint32, out *[8]uint32) {
	panic("sha256dSHANI without SHA-NI")
}

func sha256d2SHANI(mid *[8]uint32, tailA, tailB *[16]uint32, outA, outB *[8]uint32) {
	panic("sha256d2SHANI without SHA-NI")
}
