// Command reviewlens-credit is the credit step alone, for a pod image: the
// same flags as reviewlens credit.
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/creditcmd"
)

func main() { cli.Main(cli.SingleApp(creditcmd.CreditStep)) }
