package admin

import (
	"slices"
	"testing"

	"github.com/condohq/condo/webhooks"
)

// The webhooks page offers the events a tenant's endpoint can take.
func TestAdminWebhooks_EventsAreTheTenants(t *testing.T) {
	if !slices.Equal(webhookEvents, webhooks.TenantEvents) {
		t.Fatalf("the page offers %v; webhooks.TenantEvents are %v", webhookEvents, webhooks.TenantEvents)
	}
}
