package apitest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
)

// The newest ad fields. The live service added them to ad/query and
// ad/detail after the reference in shared/api was written; a harvester that
// asks for them must cope with a service that does not know them yet
// (Options.RejectNewFields), which answers 400 invalid_params naming the
// first field it does not know.
var (
	newAdFields = []string{
		"ad.title", "ad.external_url", "ad.download_url", "ad.call_to_action", "ad.advertising_objective",
	}
	// newDetailFields are requestable on ad/detail only. Without them the
	// fake still sends rejection_info alongside ad.status and country_code
	// alongside advertiser.business_id, as it always did.
	newDetailFields = []string{"ad.rejection_info", "advertiser.country_code"}

	adQueryFieldsNew  = append(slices.Clone(adQueryFields), newAdFields...)
	adDetailFieldsNew = append(append(slices.Clone(adDetailFields), newAdFields...), newDetailFields...)
)

// NewAdFields returns the newest field names: those ad/query and ad/detail
// accept on top of the reference's lists, unless Options.RejectNewFields
// (ad.rejection_info and advertiser.country_code on ad/detail only). The
// cover_image_url of every ad.videos item is new too, but it is not a field
// of its own: it comes with ad.videos, and RejectNewFields drops it.
func NewAdFields() []string {
	return append(slices.Clone(newAdFields), newDetailFields...)
}

// AdQueryFields and AdDetailFields return the fields the endpoints accept
// with the newest fields (the reference's lists first).
func AdQueryFields() []string  { return slices.Clone(adQueryFieldsNew) }
func AdDetailFields() []string { return slices.Clone(adDetailFieldsNew) }

var (
	adTitles = []string{
		"", "Neu: Kaffee ☕ für alle!", "Votez le 9 juin", "Wybory 2023 — idź głosować", "50% off, today only!!",
		`"Quoted" title, with a comma`, "Line one\nline two", "Ψήφισε στις εκλογές", "夏のセール", "Fußball-EM: Trikots 🔥",
		"Bière artisanale de Lille", "Register to vote by 18 June",
	}
	callsToAction = []string{"", "Shop now", "Learn more", "Download", "Sign up", "Book now", "Contact us", "Watch now", "Apply now"}
	objectives    = []string{"Reach", "Traffic", "Video views", "Community interaction", "App promotion", "Lead generation", "Website conversions", "Product sales"}
	landingHosts  = []string{"shop.example.de", "www.example.fr", "vote.example.eu", "kaffee.example.at", "app.example.pl", "www.example.co.uk"}
)

// Media kinds, the first path element after /obj/ on the CDN.
const (
	mediaAdVideo    = "ad-video"
	mediaAdCover    = "ad-cover"
	mediaAdImage    = "ad-image"
	mediaAdDownload = "ad-download"
	mediaCCCover    = "cc-cover"
	mediaCCVideo    = "cc-video"
)

var mediaKinds = []string{mediaAdVideo, mediaAdCover, mediaAdImage, mediaAdDownload, mediaCCCover, mediaCCVideo}

func mediaIsVideo(kind string) bool {
	return kind == mediaAdVideo || kind == mediaAdDownload || kind == mediaCCVideo
}

// mediaToken is the object name of the i-th media of a kind of an item.
func (u *Universe) mediaToken(kind string, key uint64, i int) string {
	k := uint64(slices.Index(mediaKinds, kind))
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hash(tagMedia, key, k, uint64(i)))
	binary.BigEndian.PutUint64(b[8:], u.hash(tagMedia, key, k, uint64(i)+1<<32))
	s := hex.EncodeToString(b[:])
	if mediaIsVideo(kind) {
		return s[:26]
	}
	return s[:20]
}

// mediaURL is the URL of the i-th media of a kind: on the fake CDN when the
// universe has one, else in the style of the static URLs (tiktokcdn.com).
func (u *Universe) mediaURL(kind string, key uint64, i int) string {
	tok := u.mediaToken(kind, key, i)
	if u.cdnBase != "" {
		return u.cdnURL(kind, tok)
	}
	h := u.hash(tagMedia, key, uint64(i), 7)
	q := "x-expires=" + strconv.FormatUint(1_679_169_600+h%1_000_000, 10) + "&x-signature=" + strconv.FormatUint(mix64(h)|1<<63, 16)
	switch kind {
	case mediaAdVideo, mediaAdDownload:
		return "https://library-tt-eu.tiktokcdn.com/obj/" + kind + "/" + tok + "/?mime_type=video_mp4&" + q
	case mediaCCVideo:
		return "https://v16-cc-eu.tiktokcdn.com/obj/" + kind + "/" + tok + "/?mime_type=video_mp4&" + q
	case mediaCCCover:
		return "https://p16-sign-va.tiktokcdn.com/obj/" + kind + "/" + tok + ".jpeg?" + q
	}
	return "https://p16-ad-eu.tiktokcdn.com/obj/" + kind + "/" + tok + ".jpeg?" + q
}

// extendAd adds what the static generator of genAd does not draw: the
// newest fields, the live forms, CDN links and the lifecycle. It draws from a
// stream of its own so that a universe without these options is exactly the
// one it always was.
func (u *Universe) extendAd(s *adSkel, a *Ad) {
	id := uint64(a.ID)
	// Hash-derived choices rather than a random stream: this runs for every
	// ad served, options or not.
	h := u.hash(tagAdExtra, id, 0, 0)
	pick := func(n int, shift uint) int { return int((h >> shift) % uint64(n)) }
	a.Title = adTitles[pick(len(adTitles), 0)]
	if pick(6, 8) != 0 {
		a.ExternalURL = "https://" + landingHosts[pick(len(landingHosts), 16)] + "/landing/" + strconv.FormatUint(h>>40, 16) +
			"?utm_source=tiktok&utm_campaign=" + strconv.FormatInt(a.ID, 10)
	}
	a.CallToAction = callsToAction[pick(len(callsToAction), 24)]
	a.AdvertisingObjective = objectives[pick(len(objectives), 32)]
	if u.live {
		u.liveAd(u.rng(tagAdExtra, uint64(s.day), uint64(s.home), uint64(s.idx)), a)
	}
	if u.cdnBase != "" {
		for i := range a.Videos {
			a.Videos[i].URL = u.mediaURL(mediaAdVideo, id, i)
		}
		if a.ImageURLs != nil {
			for i := range a.ImageURLs {
				a.ImageURLs[i] = u.mediaURL(mediaAdImage, id, i)
			}
		}
	}
	for i := range a.Videos {
		a.Videos[i].CoverImageURL = u.mediaURL(mediaAdCover, id, i)
	}
	if len(a.Videos) > 0 {
		a.DownloadURL = u.mediaURL(mediaAdDownload, id, 0)
	}
	if u.life != nil {
		u.lifecycleFinal(s, a)
	}
}

// liveAd gives an ad the forms seen on the live service.
func (u *Universe) liveAd(r *rand.Rand, a *Ad) {
	id := uint64(a.ID)
	if len(a.Videos) == 0 {
		// A photo ad: videos [] and 1 to 14 images.
		n := 1 + r.IntN(14)
		if r.IntN(5) == 0 {
			n = 14
		}
		a.ImageURLs = make([]string, n)
		for i := range a.ImageURLs {
			a.ImageURLs[i] = u.mediaURL(mediaAdImage, id, i)
		}
	} else {
		a.ImageURLs = nil // sent as null
	}
	if a.Reach != nil {
		for _, c := range a.Countries {
			if r.IntN(4) == 0 {
				a.Reach.ByCountry[c] = "0-1K"
			} else {
				a.Reach.ByCountry[c] = strconv.Itoa(1+r.IntN(999)) + "K"
			}
		}
	}
	a.Targeting.NumberOfUsersTargeted = liveAudience(r)
	if a.Status == "active" {
		a.StatusStatement = "N/A"
	}
	a.FirstShownMissing = r.IntN(100) == 0
}

// liveAudience is a targeted-audience range as the live service writes it,
// with one decimal: "4.9M-5.9M", "350K-420K".
func liveAudience(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		lo := 10 + r.IntN(900)
		return fmt.Sprintf("%dK-%dK", lo, lo+lo/5)
	}
	lo := 1 + r.IntN(150) // tenths of a million
	return fmt.Sprintf("%d.%dM-%d.%dM", lo/10, lo%10, (lo+10)/10, (lo+10)%10)
}

// liveAdvertisers gives a quarter of the advertisers a paid_for_by that is a
// 19-digit id, different from the business id, as seen live.
func (u *Universe) liveAdvertisers() {
	for i := range u.advertisers {
		a := &u.advertisers[i]
		r := u.rng(tagLiveAdvertiser, uint64(i), 0, 0)
		if i != 0 && r.IntN(4) != 0 { // advertiser 0 always, so that every seed has one
			continue
		}
		for {
			p := "7" + digits(r, 18)
			if p != strconv.FormatInt(a.BusinessID, 10) {
				a.PaidForBy = p
				break
			}
		}
	}
}

// extendContent points a post's media at the CDN and, under a Lifecycle,
// sets when it becomes visible.
func (u *Universe) extendContent(s *contentSkel, c *Content) {
	if u.life != nil {
		c.VisibleFrom = dayTime(s.day + 1).Add(u.publishLatency(contentKey(s)))
	}
	if u.cdnBase == "" {
		return
	}
	key := contentKey(s)
	for i := range c.Videos {
		c.Videos[i].URL = u.mediaURL(mediaCCVideo, key, i)
		c.Videos[i].CoverImageURL = u.mediaURL(mediaCCCover, key, i)
	}
}
