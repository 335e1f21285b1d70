package api

// The fast and slow paths of the decoders, for the tests of package api_test
// that hold them to each other on what the fake API serves.
var (
	FastEnvelope          = fastEnvelope
	SlowEnvelope          = slowEnvelope
	FastAdQuery           = fastAdQuery
	SlowAdQuery           = slowAdQuery
	FastAdDetail          = fastAdDetail
	SlowAdDetail          = slowAdDetail
	FastCommercialContent = fastCommercialContent
	SlowCommercialContent = slowCommercialContent
	FastAdvertiserQuery   = fastAdvertiserQuery
	SlowAdvertiserQuery   = slowAdvertiserQuery
	FastAdReport          = fastAdReport
	SlowAdReport          = slowAdReport
)
