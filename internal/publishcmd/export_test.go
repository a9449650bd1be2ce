package publishcmd

// SetRowHook sets rowHook, for the tests of package publishcmd_test.
func SetRowHook(f func(n int)) { rowHook = f }
