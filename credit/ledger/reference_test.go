package ledger_test

import (
	"testing"

	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/creditreport"
)

// The monitor report draws the reference rate the credit report shows.
func TestReferenceAutomationRate(t *testing.T) {
	if ledger.ReferenceAutomationRate != creditreport.ReferenceAutomationRate {
		t.Errorf("ledger.ReferenceAutomationRate %v, the credit report's %v", ledger.ReferenceAutomationRate, creditreport.ReferenceAutomationRate)
	}
}
