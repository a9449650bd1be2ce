package manifest

import "unsafe"

// unsafeString views b as a string without copying. The string must not
// outlive b's contents; it is only passed to parsers that do not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
