package ledger

// SetRowHook sets the function PublishFile calls with the number of each
// row it reads, before the ledger takes it (nil: none), for the tests of
// package ledger_test: a publisher stopped in the middle of its load.
func SetRowHook(f func(n int)) { rowHook = f }
