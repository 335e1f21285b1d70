package apitest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Epoch is the first day of the universe and the earliest date the API accepts
// as a date-range minimum (2022-10-01).
var Epoch = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)

// maxDay is the last day index the id encoding can carry (about 22 years).
const maxDay = 1<<13 - 1

// adCountries are the countries ad/query and ad/report serve: EU27, IS, LI, NO
// and GB, sorted. The bit of a country in a mask is its index here.
var adCountries = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU", "IE",
	"IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
}

// contentCountries are the EEA countries commercial_content/query serves (no GB, no CH).
var contentCountries = slices.DeleteFunc(slices.Clone(adCountries), func(c string) bool { return c == "GB" })

var countryNames = map[string]string{
	"AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Republic of Cyprus",
	"CZ": "Czech Republic", "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France",
	"DE": "Germany", "GR": "Greece", "HU": "Hungary", "IE": "Ireland", "IT": "Italy",
	"LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta", "NL": "Netherlands",
	"PL": "Poland", "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia",
	"ES": "Spain", "SE": "Sweden", "NO": "Norway", "IS": "Iceland", "LI": "Liechtenstein",
	"GB": "United Kingdom",
}

// AdCountries returns the country codes ad/query and ad/report accept, sorted.
func AdCountries() []string { return slices.Clone(adCountries) }

// ContentCountries returns the country codes commercial_content/query accepts
// (the EEA), sorted.
func ContentCountries() []string { return slices.Clone(contentCountries) }

// CountryName is the English name the server writes for a code in
// rejection_info.affected_countries when it uses names ("Austria",
// "Republic of Cyprus"). It returns "" for an unknown code.
func CountryName(code string) string { return countryNames[code] }

// Keywords returns the hidden search vocabulary (see AdQuery.Term).
func Keywords() []string { return slices.Clone(keywords) }

func countryIndex(list []string, code string) int { return slices.Index(list, code) }

// keywords is the hidden search vocabulary: every ad carries up to three of
// these, and search_term matches against them (see AdQuery).
var keywords = []string{"coffee", "election", "vote", "shoes", "café", "wahl", "bière", "sport", "straße", "łódź", "猫", "fußball"}

// Video is one entry of an ad's videos list.
type Video struct {
	URL string
	// CoverImageURL is the video's cover_image_url, one of the newest fields:
	// sent on every videos item unless Options.RejectNewFields.
	CoverImageURL string
}

// Reach is an ad's audience as the API reports it: text, usually a range such
// as "10K-100K", sometimes a single value such as "11K".
type Reach struct {
	UniqueUsersSeen string
	// ByCountry is unique_users_seen_by_country (ad/detail only).
	ByCountry map[string]string
}

// TikTokAccount is the advertiser's tiktok_account object (ad/detail only).
type TikTokAccount struct {
	ProfileURL    string
	AvatarURL     string
	FollowerCount int64
}

// Advertiser is a business that publishes ads. About 200 are shared by all ads.
type Advertiser struct {
	BusinessID int64
	// BusinessName may contain unicode, commas, quotes, newlines or a NUL
	// byte, and is sometimes all digits (sent as a JSON number in quirks mode).
	BusinessName string
	// PaidForBy is the funding source; "" means the key is absent.
	PaidForBy string
	// CountryCode is the advertiser's ISO country (not necessarily European).
	// ad/detail sends it alongside advertiser.business_id.
	CountryCode string
	// TikTok is nil when the advertiser has no tiktok_account.
	TikTok *TikTokAccount
}

// Targeting is ad_group.targeting_info.
type Targeting struct {
	NumberOfUsersTargeted string
	Countries             []string        // "country"
	Age                   map[string]bool // "13-17" … "55+"
	Gender                map[string]bool // female, male, other_genders
	AudienceTargeting     string          // "Yes"/"No"
	VideoInteractions     string          // "" = absent
	CreatorInteractions   string          // "" = absent
	Interest              string          // "" = absent
}

// Rejection is ad.rejection_info. ad/detail sends it alongside ad.status.
type Rejection struct {
	Reasons []string
	// AffectedCountries are codes. On the wire they are names ("Austria")
	// unless quirks mode chose codes for the response; empty means absent.
	AffectedCountries []string
	ReportingSource   string  // "" = absent
	AutomatedNotice   *string // nil is sent as JSON null
}

// Ad is one ad with everything ad/query and ad/detail can say about it.
type Ad struct {
	ID int64
	// FirstShown is the publish day (UTC midnight) that date filters match.
	FirstShown time.Time
	LastShown  time.Time
	Status     string // "active" or "inactive"
	// StatusStatement is "" (absent) for active ads and the takedown text for
	// inactive ones.
	StatusStatement string
	Videos          []Video  // may be empty (sent as [])
	ImageURLs       []string // may be empty (sent as [])
	Reach           *Reach   // nil: the reach object is absent
	Advertiser      Advertiser
	// Countries are the targeted countries, sorted; the ad is returned by
	// ad/query for each of them.
	Countries []string
	// Keywords are the hidden words search_term matches (never sent).
	Keywords  []string
	Targeting Targeting
	Rejection *Rejection // nil for most ads

	// The newest fields (ad.title, ad.external_url, ad.download_url,
	// ad.call_to_action, ad.advertising_objective), served on ad/query and
	// ad/detail when requested unless Options.RejectNewFields. Title is sent
	// even when empty; the others are absent when "".
	Title, ExternalURL, DownloadURL, CallToAction, AdvertisingObjective string
	// FirstShownMissing means the answer omits first_shown_date although
	// last_shown_date is there, as seen live (Options.LiveForms only).
	// FirstShown is still the publish day that date filters match.
	FirstShownMissing bool
	// VisibleFrom is the instant (Options.Now) from which the ad is served at
	// all; zero without a Lifecycle. See Lifecycle.
	VisibleFrom time.Time
	// TakedownDay is the first UTC day on which the ad is inactive; zero
	// without a Lifecycle or when it is never taken down. Status,
	// StatusStatement, LastShown and Rejection are the final state; see
	// Universe.AdAsOf for the state on a given day.
	TakedownDay time.Time
}

// ContentVideo is one video of a commercial content post.
type ContentVideo struct {
	ID            int64
	Status        string
	URL           string
	CoverImageURL string
}

// Content is one commercial content post.
type Content struct {
	ID              string // "v09044g40000…", never numeric
	CreateDate      time.Time
	CreateTimestamp int64 // unix seconds within CreateDate
	Label           string
	BrandNames      []string // may be empty (sent as [])
	Creator         string   // creator.username
	Country         string   // creator country (the filter), never sent
	// Videos has 0, 1 or 2 entries. In quirks mode a post with at most one
	// video may be sent as a single "video" object.
	Videos []ContentVideo
	// VisibleFrom is when the post is first served; zero without a
	// Lifecycle.
	VisibleFrom time.Time
}

// Universe is the deterministic synthetic data behind a Server. All methods
// are safe for concurrent use and pure functions of its UniverseOptions.
type Universe struct {
	seed    uint64
	density int

	vol     *volumeState // nil: flat Density
	live    bool         // UniverseOptions.LiveForms
	life    *Lifecycle   // nil: ads never change
	short   *ShortPaging // nil: paging always complete
	cdnBase string       // "": media URLs on tiktokcdn.com hosts
	cdn     CDN          // object mix, with cdnBase
	opts    UniverseOptions

	advertisers []Advertiser
	advByID     map[int64]int
	creators    []creatorInfo
	byCreator   map[string]int // lower-case username -> creator index
	creatorsIn  [][]uint16     // content country index -> creators
	feistelKeys [feistelRounds]uint64

	adDays      dayCache[adSkel]
	contentDays dayCache[contentSkel]
}

type creatorInfo struct {
	username string
	country  int
}

// dayCacheLimit bounds the memoised days, and dayCacheItems the skeletons
// they hold (about 32 bytes each), so that a million ads a year over several
// years cannot grow the cache without limit.
const (
	dayCacheLimit = 6000
	dayCacheItems = 4_000_000
)

// NewUniverse builds the universe for seed (0 means 1) and density, the mean
// number of ads each country originates per day (0 means 3). An ad targets
// its originating country plus up to three others.
func NewUniverse(seed int64, density int) *Universe {
	return NewUniverseWith(UniverseOptions{Seed: seed, Density: density})
}

// UniverseOptions select a universe. The zero value of every field but Seed
// and Density leaves the data exactly as NewUniverse makes it. A Server
// builds its universe from the Options fields of the same names.
type UniverseOptions struct {
	// Seed selects the data; 0 means 1.
	Seed int64
	// Density is the flat model's mean ads per country and day; 0 means 3.
	// Ignored for ads (and for content when ContentPerYear is set) when
	// Volume is set.
	Density int
	// Volume replaces the flat model with realistic volumes.
	Volume *VolumeModel
	// LiveForms makes the data take the forms seen on the live service
	// (photo ads, image_urls null, point reach values, "N/A" statements,
	// numeric paid_for_by, a missing first_shown_date); see Options.LiveForms.
	LiveForms bool
	// Lifecycle makes ads appear, age and be taken down as "today" moves.
	Lifecycle *Lifecycle
	// ShortPaging makes ad/query end large result sets early.
	ShortPaging *ShortPaging
	// CDNBase is the base URL (scheme://host:port) media URLs point at; ""
	// keeps tiktokcdn.com hosts that nothing serves. Server sets it to its
	// fake CDN when Options.CDN is set.
	CDNBase string
	// CDN chooses which media objects are expired, removed, slow or large
	// (with CDNBase); nil means none are.
	CDN *CDN
}

// NewUniverseWith builds the universe o describes.
func NewUniverseWith(o UniverseOptions) *Universe {
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Density <= 0 {
		o.Density = 3
	}
	if o.Density > 10000 {
		o.Density = 10000
	}
	u := &Universe{
		seed:      uint64(o.Seed),
		density:   o.Density,
		live:      o.LiveForms,
		life:      o.Lifecycle,
		short:     o.ShortPaging,
		cdnBase:   strings.TrimSuffix(o.CDNBase, "/"),
		opts:      o,
		advByID:   map[int64]int{},
		byCreator: map[string]int{},
	}
	if o.Volume != nil {
		u.vol = compileVolume(o.Volume)
	}
	if u.life != nil {
		l := *u.life
		u.life = &l
	}
	if u.short != nil {
		sp := *u.short
		u.short = &sp
	}
	if o.CDN != nil {
		u.cdn = *o.CDN
	}
	for i := range u.feistelKeys {
		u.feistelKeys[i] = u.hash(tagFeistel, uint64(i), 0, 0)
	}
	u.genAdvertisers()
	if u.live {
		u.liveAdvertisers()
	}
	u.genCreators()
	return u
}

// Options returns the options the universe was built with, defaults filled in.
func (u *Universe) Options() UniverseOptions { return u.opts }

// Seed returns the universe's seed.
func (u *Universe) Seed() int64 { return int64(u.seed) }

// ---- hashing -------------------------------------------------------------

const (
	tagAd = iota + 1
	tagAdCount
	tagFeistel
	tagSalt
	tagAdvertiser
	tagCreator
	tagContent
	tagContentCount
	tagQuietWeek
	tagAdExtra
	tagLive
	tagLife
	tagMedia
	tagShort
	tagReportFail
	tagCDN
	tagLiveAdvertiser
)

func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func (u *Universe) hash(tag, a, b, c uint64) uint64 {
	x := mix64(u.seed + 0x9e3779b97f4a7c15*tag)
	x = mix64((x ^ a) + 0x632be59bd9b4e019)
	x = mix64((x ^ b) + 0x8cb92ba72f3d8dd7)
	x = mix64((x ^ c) + 0x2545f4914f6cdd1d)
	return x
}

func (u *Universe) rng(tag, a, b, c uint64) *rand.Rand {
	h := u.hash(tag, a, b, c)
	return rand.New(rand.NewPCG(h, mix64(h^0x5851f42d4c957f2d)))
}

// ---- ad ids --------------------------------------------------------------

const (
	feistelRounds = 4
	half          = 20
	halfMask      = 1<<half - 1
	smallBase     = 1_000_000_000_000_000     // 16-digit ids
	smallMul      = 8000                      // (2^40 * 8000 < 9e15)
	bigBase       = 7_000_000_000_000_000_000 // 19-digit ids above 2^53
	bigMul        = 1_000_000
)

func (u *Universe) feistel(p uint64, inverse bool) uint64 {
	l, r := p>>half, p&halfMask
	f := func(x uint64, i int) uint64 { return mix64(x^u.feistelKeys[i]) & halfMask }
	if !inverse {
		for i := 0; i < feistelRounds; i++ {
			l, r = r, l^f(r, i)
		}
	} else {
		for i := feistelRounds - 1; i >= 0; i-- {
			l, r = r^f(l, i), l
		}
	}
	return l<<half | r
}

func (u *Universe) encodeAdID(day int32, home, idx int, big bool) int64 {
	p := uint64(day)<<21 | uint64(home)<<16 | uint64(idx)
	s := u.feistel(p, false)
	if big {
		return bigBase + int64(s)*bigMul + int64(u.hash(tagSalt, s, 1, 0)%bigMul)
	}
	return smallBase + int64(s)*smallMul + int64(u.hash(tagSalt, s, 0, 0)%smallMul)
}

func (u *Universe) decodeAdID(id int64) (day int32, home, idx int, big, ok bool) {
	var s uint64
	switch {
	case id >= bigBase && id < bigBase+(1<<(2*half))*bigMul:
		big = true
		s = uint64((id - bigBase) / bigMul)
		if uint64((id-bigBase)%bigMul) != u.hash(tagSalt, s, 1, 0)%bigMul {
			return
		}
	case id >= smallBase && id < smallBase+(1<<(2*half))*smallMul:
		s = uint64((id - smallBase) / smallMul)
		if uint64((id-smallBase)%smallMul) != u.hash(tagSalt, s, 0, 0)%smallMul {
			return
		}
	default:
		return
	}
	p := u.feistel(s, true)
	if p >= 1<<34 {
		return
	}
	day, home, idx = int32(p>>21), int(p>>16&31), int(p&0xffff)
	return day, home, idx, big, home < len(adCountries) && day <= maxDay
}

// ---- days ----------------------------------------------------------------

func dayIndex(t time.Time) int32 {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return int32(d.Sub(Epoch) / (24 * time.Hour))
}

func dayTime(d int32) time.Time { return Epoch.AddDate(0, 0, int(d)) }

// DateString formats a day as the API does, "YYYYMMDD".
func DateString(t time.Time) string { return t.UTC().Format("20060102") }

// clampRange turns from/to into day indexes within the universe; ok is false
// when the range is empty.
func clampRange(from, to time.Time) (lo, hi int32, ok bool) {
	lo, hi = dayIndex(from), dayIndex(to)
	lo = max(lo, 0)
	hi = min(hi, maxDay)
	return lo, hi, lo <= hi
}

// ---- advertisers and creators -------------------------------------------

var advPrefixes = []string{
	"Awe Food Co.", "Café Crème", "Straße & Söhne", "Łódź Digital", "Bière du Nord", "東京トレーディング",
	"Ørsted Ænergy", "Cześć, Świat", `"Quoted" Brands`, "Zürich Sport", "Coffee Corner", "Wahl-Info e.V.",
	"Shoes4U", "Σπίτι Ελληνικό", "Vote Smart", "Müller, Meier & Co", "🍺 Brew Bros", "Dvořák Média",
	"Ferreira & Filhos", "Kaffeehaus Wien", "Fußball Fan-Shop", "北欧 Design", "Économie Verte", "Awesome Drink Co.",
}

var advSuffixes = []string{"", " GmbH", " Ltd", " S.A.", " Sp. z o.o.", " B.V.", " AB", ", Inc.", " SAS", " ApS", " s.r.o.", " Oy", " 株式会社", " 🚀"}

var advHomeCountries = []string{"DE", "FR", "IT", "ES", "NL", "PL", "IE", "GB", "US", "CN", "SG", "SE", "AT", "BE", "JP"}

func numericName(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return "7" + digits(r, 18)
	}
	return strconv.Itoa(1+r.IntN(9)) + digits(r, 9)
}

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func hexString(r *rand.Rand, n int) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hexd[r.IntN(16)]
	}
	return string(b)
}

func (u *Universe) genAdvertisers() {
	const n = 200
	for i := 0; i < n; i++ {
		r := u.rng(tagAdvertiser, uint64(i), 0, 0)
		var a Advertiser
		for {
			if r.IntN(8) == 0 {
				a.BusinessID = 1_000_000_000_000_000 + r.Int64N(8_999_999_999_999_999) // 16 digits
			} else {
				a.BusinessID = 7_000_000_000_000_000_000 + r.Int64N(200_000_000_000_000_000) // 19 digits
			}
			if _, dup := u.advByID[a.BusinessID]; !dup {
				break
			}
		}
		if r.IntN(100) < 9 {
			a.BusinessName = numericName(r)
		} else {
			a.BusinessName = advPrefixes[r.IntN(len(advPrefixes))] + advSuffixes[r.IntN(len(advSuffixes))]
			switch r.IntN(16) {
			case 0:
				a.BusinessName += "\nBranch " + strconv.Itoa(i)
			case 1:
				a.BusinessName += "\x00"
			case 2:
				a.BusinessName += " (" + strconv.Itoa(i) + ")"
			}
		}
		switch k := r.IntN(20); {
		case k < 8:
			a.PaidForBy = a.BusinessName
		case k < 13:
			a.PaidForBy = "Holding " + advPrefixes[r.IntN(len(advPrefixes))]
		case k < 15:
			a.PaidForBy = numericName(r)
		default:
			a.PaidForBy = "" // absent
		}
		a.CountryCode = advHomeCountries[r.IntN(len(advHomeCountries))]
		if r.IntN(5) != 0 {
			handle := fmt.Sprintf("brand_%s%d", hexString(r, 4), i)
			a.TikTok = &TikTokAccount{
				ProfileURL:    "https://www.tiktok.com/@" + handle,
				AvatarURL:     fmt.Sprintf("https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/%s~c5_100x100.jpeg?x-expires=1679169600&x-signature=%s%%3D", hexString(r, 32), hexString(r, 20)),
				FollowerCount: r.Int64N(5_000_000),
			}
			if r.IntN(10) == 0 {
				a.TikTok.FollowerCount = 0
			}
		}
		u.advByID[a.BusinessID] = i
		u.advertisers = append(u.advertisers, a)
	}
}

var creatorBases = []string{"joe", "emma_lol", "lukas.k", "marta", "sven", "anna.b", "giulia", "pierre", "zofia", "nikos", "janne", "ines", "tomas", "elena", "oskar", "_x_", "lea.mode"}

func (u *Universe) genCreators() {
	u.creatorsIn = make([][]uint16, len(contentCountries))
	for i := 0; i < 300; i++ {
		r := u.rng(tagCreator, uint64(i), 0, 0)
		var name string
		for {
			name = creatorBases[r.IntN(len(creatorBases))] + digits(r, 3+r.IntN(5))
			if _, dup := u.byCreator[name]; !dup {
				break
			}
		}
		c := i % len(contentCountries)
		u.byCreator[name] = i
		u.creators = append(u.creators, creatorInfo{username: name, country: c})
		u.creatorsIn[c] = append(u.creatorsIn[c], uint16(i))
	}
}

// AllAdvertisers returns the advertiser pool in advertiser/query order.
func (u *Universe) AllAdvertisers() []Advertiser {
	out := make([]Advertiser, len(u.advertisers))
	for i := range u.advertisers {
		out[i] = u.advertiser(i)
	}
	return out
}

func (u *Universe) advertiser(i int) Advertiser {
	a := u.advertisers[i]
	if a.TikTok != nil {
		t := *a.TikTok
		a.TikTok = &t
	}
	return a
}

// AdvertiserByID looks an advertiser up by business id.
func (u *Universe) AdvertiserByID(id int64) (Advertiser, bool) {
	i, ok := u.advByID[id]
	if !ok {
		return Advertiser{}, false
	}
	return u.advertiser(i), true
}

// Creators returns every creator username, in a stable order.
func (u *Universe) Creators() []string {
	out := make([]string, len(u.creators))
	for i, c := range u.creators {
		out[i] = c.username
	}
	return out
}

// CreatorsIn returns the usernames of the creators of a content country.
func (u *Universe) CreatorsIn(country string) []string {
	ci := countryIndex(contentCountries, strings.ToUpper(country))
	if ci < 0 {
		return nil
	}
	var out []string
	for _, i := range u.creatorsIn[ci] {
		out = append(out, u.creators[i].username)
	}
	return out
}

// Advertisers returns the advertisers whose business name contains term
// case-insensitively, in pool order, at most maxCount of them (0 means the
// API default of 10; more than 50 is capped at 50).
func (u *Universe) Advertisers(term string, maxCount int) []Advertiser {
	if maxCount <= 0 {
		maxCount = 10
	}
	maxCount = min(maxCount, 50)
	t := strings.ToLower(term)
	var out []Advertiser
	for i, a := range u.advertisers {
		if len(out) == maxCount {
			break
		}
		if strings.Contains(strings.ToLower(a.BusinessName), t) {
			out = append(out, u.advertiser(i))
		}
	}
	return out
}

// ---- ads -----------------------------------------------------------------

// adSkel is the part of an ad the filters need; the rest is regenerated from
// (day, home, idx) on demand.
type adSkel struct {
	id    int64
	day   int32
	home  uint8
	big   bool
	reach int8 // index into reachTexts, -1 when absent
	idx   uint16
	adv   uint16
	kw    uint16
	cmask uint32
}

var reachTexts = []string{"1K-10K", "10K-100K", "100K-1M", "1M-10M", "0-1K", "10K-100K", "1K-10K", "11K", "2K", "350K"}

var reachBounds = func() [][2]int64 {
	out := make([][2]int64, len(reachTexts))
	for i, t := range reachTexts {
		lo, hi, ok := parseReach(t)
		if !ok {
			panic("bad reach text " + t)
		}
		out[i] = [2]int64{lo, hi}
	}
	return out
}()

// parseReach parses "10K-100K", "11K" or "0" into bounds.
func parseReach(s string) (lo, hi int64, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, ok = parseSizeValue(a, true)
	if !ok {
		return 0, 0, false
	}
	if !isRange {
		return lo, lo, true
	}
	hi, ok = parseSizeValue(b, true)
	return lo, hi, ok
}

// parseSizeValue parses an integer below 1000 followed by K, M or B. With
// bare, a plain integer (no suffix) is accepted too.
func parseSizeValue(s string, bare bool) (int64, bool) {
	if s == "" {
		return 0, false
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'K':
		mult = 1_000
	case 'M':
		mult = 1_000_000
	case 'B':
		mult = 1_000_000_000
	default:
		if !bare {
			return 0, false
		}
		s += "_"
	}
	num := s[:len(s)-1]
	if num == "" || len(num) > 3 {
		return 0, false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n >= 1000 {
		return 0, false
	}
	return n * mult, true
}

var (
	numberTargeted   = []string{"10K-100K", "100K-1M", "1M-10M", "50K", "20K", "10M-100M"}
	videoInteract    = []string{"Entertainment", "Food & Drink", "Sports", "Beauty & Personal Care", "News, Politics"}
	creatorInteract  = []string{"Talent", "Food", "Sports", "Fashion, Beauty", "Gaming"}
	interests        = []string{"News & Entertainment, Business Services", "Apparel & Accessories", "Travel", "Food & Beverage", "Games", "Sport & Outdoor"}
	ageKeys          = []string{"13-17", "18-24", "25-34", "35-44", "45-54", "55+"}
	genderKeys       = []string{"female", "male", "other_genders"}
	rejectionReasons = []string{
		"The product/service promoted on the ad/landing page belongs to a prohibited industry of the targeted location(s) in your ad when we take our own business evaluation, user experience and the value of advertisement impact, etc. into consideration.",
		"Ad content does not comply with TikTok's Advertising Policies on political content.",
		`Misleading claims, e.g. "miracle" results, are not allowed.`,
		"Le contenu promu est interdit dans la région ciblée.",
	}
	reportingSources = []string{
		"Users and third parties can report policy violations to us. We have detected this policy violation based on a report that the content violated our Advertising Policies.",
		"We have detected this policy violation through our own proactive moderation.",
	}
	automatedNotice = "We have used automated measures in making this decision."
	takedownText    = "Removed from TikTok due to a violation of TikTok's terms"
)

func weighted(r *rand.Rand, w ...int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := r.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}

func (u *Universe) adCount(day int32, home int) int {
	if u.vol != nil {
		return u.volumeAdCount(day, home)
	}
	return int(u.hash(tagAdCount, uint64(day), uint64(home), 0) % uint64(2*u.density+1))
}

// genAd draws an ad. The skeleton comes first from the ad's own random
// stream, so a skeleton and the full ad always agree.
func (u *Universe) genAd(day int32, home, idx int, full bool) (adSkel, Ad) {
	r := u.rng(tagAd, uint64(day), uint64(home), uint64(idx))
	s := adSkel{day: day, home: uint8(home), idx: uint16(idx)}
	s.big = r.IntN(8) == 0
	s.id = u.encodeAdID(day, home, idx, s.big)
	s.cmask = 1 << home
	if u.vol != nil {
		// Extra targets follow the weights, so that a small country is not
		// flooded by the big ones' multi-country ads, and a country's quiet
		// days (factor below 1) are as quiet for others' ads. Bounded
		// tries: with few countries weighted, an ad may target fewer than
		// drawn.
		for n, extra, tries := 0, weighted(r, 55, 25, 12, 8), 0; n < extra && tries < 64; tries++ {
			c := u.vol.pickCountry(r.Float64())
			if s.cmask&(1<<c) != 0 || u.vol.perDay[c] == 0 {
				continue
			}
			if f := u.volumeFactor(day, c); f < 1 && r.Float64() >= f {
				continue
			}
			s.cmask |= 1 << c
			n++
		}
	} else {
		for n, extra := 0, weighted(r, 55, 25, 12, 8); n < extra; {
			if c := r.IntN(len(adCountries)); s.cmask&(1<<c) == 0 {
				s.cmask |= 1 << c
				n++
			}
		}
	}
	s.adv = uint16(r.IntN(r.IntN(len(u.advertisers)) + 1))
	for n, nk := 0, weighted(r, 40, 35, 15, 10); n < nk; {
		if k := r.IntN(len(keywords)); s.kw&(1<<k) == 0 {
			s.kw |= 1 << k
			n++
		}
	}
	s.reach = -1
	if r.IntN(10) != 0 {
		s.reach = int8(r.IntN(len(reachTexts)))
	}
	if !full {
		return s, Ad{}
	}

	a := Ad{ID: s.id, FirstShown: dayTime(day), Status: "active", Advertiser: u.advertiser(int(s.adv))}
	a.LastShown = a.FirstShown
	if r.IntN(5) != 0 {
		a.LastShown = a.FirstShown.AddDate(0, 0, r.IntN(120))
	}
	for i, c := range adCountries {
		if s.cmask&(1<<i) != 0 {
			a.Countries = append(a.Countries, c)
		}
	}
	for i, k := range keywords {
		if s.kw&(1<<i) != 0 {
			a.Keywords = append(a.Keywords, k)
		}
	}
	inactive := r.IntN(12) == 0
	if inactive {
		a.Status, a.StatusStatement = "inactive", takedownText
	}
	a.Videos = []Video{}
	for i, n := 0, weighted(r, 15, 60, 20, 5); i < n; i++ {
		a.Videos = append(a.Videos, Video{URL: fmt.Sprintf(
			"https://library-tt-eu.tiktokcdn.com/obj/ad-video/%s/?mime_type=video_mp4&x-expires=%d&x-signature=%s",
			hexString(r, 26), 1_679_169_600+r.IntN(1_000_000), hexString(r, 16))})
	}
	a.ImageURLs = []string{}
	for i, n := 0, weighted(r, 60, 30, 10); i < n; i++ {
		a.ImageURLs = append(a.ImageURLs, fmt.Sprintf(
			"https://p16-ad-eu.tiktokcdn.com/obj/ad-image/%s.jpeg?x-expires=%d&x-signature=%s",
			hexString(r, 8), 1_679_169_600+r.IntN(1_000_000), hexString(r, 12)))
	}
	if s.reach >= 0 {
		a.Reach = &Reach{UniqueUsersSeen: reachTexts[s.reach], ByCountry: map[string]string{}}
		for _, c := range a.Countries {
			a.Reach.ByCountry[c] = reachTexts[r.IntN(len(reachTexts))]
		}
	}
	t := Targeting{
		NumberOfUsersTargeted: numberTargeted[r.IntN(len(numberTargeted))],
		Countries:             slices.Clone(a.Countries),
		Age:                   map[string]bool{},
		Gender:                map[string]bool{},
		AudienceTargeting:     []string{"Yes", "No"}[r.IntN(2)],
	}
	for _, k := range ageKeys {
		t.Age[k] = r.IntN(3) != 0
	}
	for _, k := range genderKeys {
		t.Gender[k] = r.IntN(4) != 0
	}
	if r.IntN(5) != 0 {
		t.VideoInteractions = videoInteract[r.IntN(len(videoInteract))]
	}
	if r.IntN(5) != 0 {
		t.CreatorInteractions = creatorInteract[r.IntN(len(creatorInteract))]
	}
	if r.IntN(4) != 0 {
		t.Interest = interests[r.IntN(len(interests))]
	}
	a.Targeting = t
	if (inactive && r.IntN(2) == 0) || r.IntN(10) == 0 {
		rej := &Rejection{}
		for i, n := 0, 1+r.IntN(2); i < n; i++ {
			rej.Reasons = append(rej.Reasons, rejectionReasons[r.IntN(len(rejectionReasons))])
		}
		for _, c := range a.Countries {
			if r.IntN(2) == 0 {
				rej.AffectedCountries = append(rej.AffectedCountries, c)
			}
		}
		if r.IntN(4) != 0 {
			rej.ReportingSource = reportingSources[r.IntN(len(reportingSources))]
		}
		if r.IntN(5) < 3 {
			n := automatedNotice
			rej.AutomatedNotice = &n
		}
		a.Rejection = rej
	}
	u.extendAd(&s, &a)
	return s, a
}

func (u *Universe) adDay(day int32) []adSkel {
	return u.adDays.get(day, func() []adSkel {
		var out []adSkel
		for home := range adCountries {
			for idx, n := 0, u.adCount(day, home); idx < n; idx++ {
				sk, _ := u.genAd(day, home, idx, false)
				out = append(out, sk)
			}
		}
		return out
	})
}

// dayCache memoises one day's skeletons. It is bounded (dayCacheLimit days) so
// that a long-running fake cannot grow without limit; a day that falls out is
// simply generated again, identically.
type dayCache[T any] struct {
	mu    sync.Mutex
	m     map[int32][]T
	items int
}

func (c *dayCache[T]) get(day int32, gen func() []T) []T {
	c.mu.Lock()
	s, ok := c.m[day]
	c.mu.Unlock()
	if ok {
		return s
	}
	out := gen()
	c.mu.Lock()
	if c.m == nil || len(c.m) >= dayCacheLimit || c.items+len(out) > dayCacheItems {
		c.m, c.items = map[int32][]T{}, 0
	}
	if _, dup := c.m[day]; !dup {
		c.items += len(out)
	}
	c.m[day] = out
	c.mu.Unlock()
	return out
}

func (u *Universe) materialize(s adSkel) Ad {
	_, a := u.genAd(s.day, int(s.home), int(s.idx), true)
	return a
}

// materializeAt is the ad as served at asOf (see AdAsOf); a zero asOf is the
// final state.
func (u *Universe) materializeAt(s adSkel, asOf time.Time) Ad {
	a := u.materialize(s)
	if u.life != nil && !asOf.IsZero() {
		u.applyAsOf(&a, asOf)
	}
	return a
}

// AdQuery is the filter set of one ad/query slice.
type AdQuery struct {
	// Country is a code from AdCountries; "" or "ALL" means every country
	// (each ad once).
	Country string
	// From and To are publish days, inclusive (only the UTC date counts).
	From, To time.Time
	// Term is search_term. With SearchType "exact_phrase" (the default) an
	// ad matches when one of its Keywords equals Term case-insensitively;
	// with "fuzzy_phrase" when any whitespace-separated word of Term does.
	Term, SearchType string
	// AdvertiserIDs filters by business id, and is ignored when Term is set.
	AdvertiserIDs []int64
	// UsersSeenMin/Max are unique_users_seen_size_range in users (0 =
	// unbounded). An ad matches when its reach range overlaps [Min, Max];
	// ads without reach never match a bounded range.
	UsersSeenMin, UsersSeenMax int64
}

type adFilter struct {
	all        bool
	cbit       uint32
	lo, hi     int32
	useTerm    bool
	kwMask     uint16
	useAdv     bool
	advSet     map[uint16]bool
	minS, maxS int64
	empty      bool
}

func (u *Universe) compileAdQuery(q AdQuery) adFilter {
	f := adFilter{minS: q.UsersSeenMin, maxS: q.UsersSeenMax}
	var ok bool
	f.lo, f.hi, ok = clampRange(q.From, q.To)
	f.empty = !ok
	switch c := strings.ToUpper(q.Country); c {
	case "", "ALL":
		f.all = true
	default:
		i := countryIndex(adCountries, c)
		if i < 0 {
			f.empty = true
		} else {
			f.cbit = 1 << i
		}
	}
	if q.Term != "" {
		f.useTerm = true
		words := []string{strings.TrimSpace(q.Term)}
		if strings.EqualFold(q.SearchType, "fuzzy_phrase") {
			words = strings.Fields(q.Term)
		}
		for i, k := range keywords {
			for _, w := range words {
				if strings.EqualFold(w, k) {
					f.kwMask |= 1 << i
				}
			}
		}
	} else if len(q.AdvertiserIDs) > 0 {
		f.useAdv = true
		f.advSet = map[uint16]bool{}
		for _, id := range q.AdvertiserIDs {
			if i, ok := u.advByID[id]; ok {
				f.advSet[uint16(i)] = true
			}
		}
	}
	return f
}

func (f *adFilter) match(s *adSkel) bool {
	if !f.all && s.cmask&f.cbit == 0 {
		return false
	}
	if f.useTerm && s.kw&f.kwMask == 0 {
		return false
	}
	if f.useAdv && !f.advSet[s.adv] {
		return false
	}
	if f.minS > 0 || f.maxS > 0 {
		if s.reach < 0 {
			return false
		}
		b := reachBounds[s.reach]
		if b[1] < f.minS || (f.maxS > 0 && b[0] > f.maxS) {
			return false
		}
	}
	return true
}

// matchAds returns the skeletons of the ads q selects, in paging order:
// newest publish day first, then by originating country and index.
func (u *Universe) matchAds(q AdQuery) []adSkel { return u.matchAdsAt(q, time.Time{}) }

// matchAdsAt is matchAds restricted to the ads visible at asOf (Lifecycle);
// a zero asOf, or no Lifecycle, means every ad.
func (u *Universe) matchAdsAt(q AdQuery, asOf time.Time) []adSkel {
	f := u.compileAdQuery(q)
	if f.empty || (f.useTerm && f.kwMask == 0) {
		return nil
	}
	var out []adSkel
	for d := f.hi; d >= f.lo; d-- {
		vis := u.dayVisibility(d, asOf)
		if vis == visNone {
			continue
		}
		day := u.adDay(d)
		for i := range day {
			if f.match(&day[i]) && (vis == visAll || u.adVisible(&day[i], asOf)) {
				out = append(out, day[i])
			}
		}
	}
	return out
}

// Ads returns exactly the ads a complete paging of ad/query returns for q, in
// the server's paging order (newest publish day first). Options.EndlessTerm
// is a server behaviour the universe knows nothing about.
func (u *Universe) Ads(q AdQuery) []Ad {
	sk := u.matchAds(q)
	out := make([]Ad, len(sk))
	for i, s := range sk {
		out[i] = u.materialize(s)
	}
	return out
}

// AdIDs is Ads reduced to ids, much cheaper for large ranges.
func (u *Universe) AdIDs(q AdQuery) []int64 {
	sk := u.matchAds(q)
	out := make([]int64, len(sk))
	for i, s := range sk {
		out[i] = s.id
	}
	return out
}

// AdDetail returns the ad with this id, as ad/detail describes it (with a
// Lifecycle: in its final state, whether or not it is visible yet; see
// AdAsOf).
func (u *Universe) AdDetail(id int64) (Ad, bool) {
	day, home, idx, big, ok := u.decodeAdID(id)
	if !ok || idx >= u.adCount(day, home) {
		return Ad{}, false
	}
	s, a := u.genAd(day, home, idx, true)
	if s.big != big || s.id != id {
		return Ad{}, false
	}
	return a, true
}

// Report is what ad/report answers: country -> "YYYYMMDD" -> number of ads
// published that day that target the country, optionally only those of
// advertiserIDs. country "" or "ALL" covers every country. Days and
// countries with no ads are absent.
func (u *Universe) Report(country string, from, to time.Time, advertiserIDs []int64) map[string]map[string]int64 {
	return u.ReportAt(country, from, to, advertiserIDs, time.Time{})
}

// ReportAt is Report counting only the ads visible at asOf, which is what
// ad/report answers when Options.Now() is asOf under a Lifecycle. A zero
// asOf counts every ad.
func (u *Universe) ReportAt(country string, from, to time.Time, advertiserIDs []int64, asOf time.Time) map[string]map[string]int64 {
	f := u.compileAdQuery(AdQuery{Country: country, From: from, To: to, AdvertiserIDs: advertiserIDs})
	out := map[string]map[string]int64{}
	if f.empty {
		return out
	}
	for d := f.lo; d <= f.hi; d++ {
		vis := u.dayVisibility(d, asOf)
		if vis == visNone {
			continue
		}
		ds := DateString(dayTime(d))
		for _, s := range u.adDay(d) {
			if f.useAdv && !f.advSet[s.adv] {
				continue
			}
			if vis == visSome && !u.adVisible(&s, asOf) {
				continue
			}
			m := s.cmask
			if !f.all {
				m &= f.cbit
			}
			for i := range adCountries {
				if m&(1<<i) == 0 {
					continue
				}
				c := adCountries[i]
				if out[c] == nil {
					out[c] = map[string]int64{}
				}
				out[c][ds]++
			}
		}
	}
	return out
}

// ---- commercial content --------------------------------------------------

type contentSkel struct {
	day     int32
	country uint8
	idx     uint16
	creator uint16
}

var brandNames = []string{"My Awesome Co.", "HelloWorld Inc.", "Café Crème", "Müller, Meier & Co", `"Best" Brand`, "东方 Beauty", "Ærø Øl", "L'Atelier Éclat", "Fußball Fan-Shop", "🍫 Choco, Ltd"}

const contentIDAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

func (u *Universe) contentCount(day int32, country int) int {
	if u.vol != nil && u.vol.contentDay != nil {
		return u.volumeContentCount(day, country)
	}
	return int(u.hash(tagContentCount, uint64(day), uint64(country), 0) % uint64(2*u.density+1))
}

func (u *Universe) genContent(day int32, country, idx int, full bool) (contentSkel, Content) {
	r := u.rng(tagContent, uint64(day), uint64(country), uint64(idx))
	list := u.creatorsIn[country]
	s := contentSkel{day: day, country: uint8(country), idx: uint16(idx), creator: list[r.IntN(len(list))]}
	if !full {
		return s, Content{}
	}
	cr := u.creators[s.creator]
	c := Content{
		CreateDate: dayTime(day),
		Label:      "Paid partnership",
		Creator:    cr.username,
		Country:    contentCountries[country],
		BrandNames: []string{},
		Videos:     []ContentVideo{},
	}
	c.CreateTimestamp = c.CreateDate.Unix() + r.Int64N(86400)
	id := make([]byte, 20)
	for i := range id {
		id[i] = contentIDAlphabet[r.IntN(len(contentIDAlphabet))]
	}
	c.ID = "v09044g40000" + string(id)
	for i, n := 0, weighted(r, 15, 55, 20, 10); i < n; i++ {
		c.BrandNames = append(c.BrandNames, brandNames[r.IntN(len(brandNames))])
	}
	for i, n := 0, weighted(r, 5, 85, 10); i < n; i++ {
		vid := 7_000_000_000_000_000_000 + r.Int64N(400_000_000_000_000_000)
		v := ContentVideo{
			ID:            vid,
			Status:        "active",
			URL:           "https://www.tiktok.com/@" + cr.username + "/video/" + strconv.FormatInt(vid, 10),
			CoverImageURL: fmt.Sprintf("https://p16-sign-va.tiktokcdn.com/obj/tos-maliva-p-0068/%s?x-expires=%d&x-signature=%s", hexString(r, 32), 1_679_169_600+r.IntN(1_000_000), hexString(r, 12)),
		}
		if r.IntN(15) == 0 {
			v.Status = "inactive"
		}
		c.Videos = append(c.Videos, v)
	}
	u.extendContent(&s, &c)
	return s, c
}

func (u *Universe) contentDay(day int32) []contentSkel {
	return u.contentDays.get(day, func() []contentSkel {
		var out []contentSkel
		for c := range contentCountries {
			for idx, n := 0, u.contentCount(day, c); idx < n; idx++ {
				sk, _ := u.genContent(day, c, idx, false)
				out = append(out, sk)
			}
		}
		return out
	})
}

func (u *Universe) matchContent(country string, from, to time.Time, usernames []string) []contentSkel {
	return u.matchContentAt(country, from, to, usernames, time.Time{})
}

func (u *Universe) matchContentAt(country string, from, to time.Time, usernames []string, asOf time.Time) []contentSkel {
	lo, hi, ok := clampRange(from, to)
	if !ok {
		return nil
	}
	ci := -1
	switch c := strings.ToUpper(country); c {
	case "", "ALL":
	default:
		if ci = countryIndex(contentCountries, c); ci < 0 {
			return nil
		}
	}
	var who map[uint16]bool
	if len(usernames) > 0 {
		who = map[uint16]bool{}
		for _, n := range usernames {
			if i, ok := u.byCreator[strings.ToLower(n)]; ok {
				who[uint16(i)] = true
			}
		}
	}
	var out []contentSkel
	for d := hi; d >= lo; d-- {
		vis := u.dayVisibility(d, asOf)
		if vis == visNone {
			continue
		}
		for _, s := range u.contentDay(d) {
			if ci >= 0 && int(s.country) != ci {
				continue
			}
			if who != nil && !who[s.creator] {
				continue
			}
			if vis == visSome && !u.contentVisible(&s, asOf) {
				continue
			}
			out = append(out, s)
		}
	}
	return out
}

func (u *Universe) materializeContent(s contentSkel) Content {
	_, c := u.genContent(s.day, int(s.country), int(s.idx), true)
	return c
}

// CommercialContent returns exactly what a complete paging of
// commercial_content/query returns: posts of creators from country ("" or
// "ALL" = every EEA country) created within [from, to], newest day first,
// optionally only those of the given creator usernames (case-insensitive).
func (u *Universe) CommercialContent(country string, from, to time.Time, usernames []string) []Content {
	sk := u.matchContent(country, from, to, usernames)
	out := make([]Content, len(sk))
	for i, s := range sk {
		out[i] = u.materializeContent(s)
	}
	return out
}
