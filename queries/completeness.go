package queries

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"adharvest/job"
	"adharvest/sink"
)

// CompletenessView is the name of the view that says, per dataset, field and
// country, how often the service sent each field (see completenessSQL).
const CompletenessView = "field_completeness"

// completenessTables are the tables field_completeness measures, with the
// dataset each is harvested by (as --datasets spells it, like the dataset
// column of coverage).
var completenessTables = []struct {
	table   sink.Table
	dataset string
}{
	{sink.Ads, job.Ads},
	{sink.AdDetails, job.AdDetails},
	{sink.CommercialContent, job.CommercialContent},
}

// notFields are the columns that are not fields of the service and are left
// out of field_completeness: the provenance that adharvest adds to every row,
// and the lists the ads view adds. Key columns are left out too (always
// present).
var notFields = []string{"search_term", "search_type", "window_start", "window_end", "fetched_at", "run_id", "shard_id", "search_terms", "shard_ids"}

// completenessSQL is the CREATE VIEW statement of field_completeness over the
// views of e, generated from their columns (DESCRIBE), so that a column
// added to a table is measured without a change here. One row per dataset,
// field and country_code:
//
//   - rows: the rows of the deduplicated view (one per key) in that country;
//   - present: those where the field is present and not empty: not NULL,
//     and for text not blank (only spaces), for lists and maps not empty;
//   - share: present / rows, a DOUBLE from 0 to 1.
//
// country_code is the country searched for ads and commercial_content. An
// ad's details (ad_details has no country) count once under every country
// the ad was found under in ads, and under NULL when it is in no country of
// ads; so rows of one dataset and field sum over countries to the ads
// (× countries) measured. Rows come in the order of the datasets, of the
// columns in each table, then of country_code (NULL last).
func (e *Engine) completenessSQL(ctx context.Context) (string, error) {
	var parts []string
	for i, ct := range completenessTables {
		cols, err := e.columns(ctx, ct.table.Name)
		if err != nil {
			return "", err
		}
		hasCountry := false
		var cells []string
		for _, c := range cols {
			if c.name == "country_code" {
				hasCountry = true
			}
			if c.name == "country_code" || slices.Contains(ct.table.Key, c.name) || slices.Contains(notFields, c.name) {
				continue
			}
			cells = append(cells, fmt.Sprintf("{'pos': %d, 'field': %s, 'present': %s}",
				len(cells)+1, quoteLiteral(c.name), presentExpr("t."+quoteIdent(c.name), c.typ)))
		}
		if len(cells) == 0 {
			continue
		}
		country, from := "t.country_code", quoteIdent(ct.table.Name)+" AS t"
		if !hasCountry {
			// Each country the ad was found under, as ad/report counts.
			country = "f.country_code"
			from += " LEFT JOIN (SELECT DISTINCT ad_id, country_code FROM " + quoteIdent(sink.Ads.Name) + ") AS f USING (ad_id)"
		}
		parts = append(parts, fmt.Sprintf("    SELECT %d AS d, %s AS dataset, %s AS country_code, unnest([\n        %s\n    ], recursive := true)\n    FROM %s",
			i, quoteLiteral(ct.dataset), country, strings.Join(cells, ",\n        "), from))
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("%s: no columns to measure", CompletenessView)
	}
	return "CREATE OR REPLACE VIEW " + CompletenessView + ` AS
WITH cells AS (
` + strings.Join(parts, "\n    UNION ALL\n") + `
)
SELECT
    dataset,
    field,
    country_code,
    count(*) AS "rows",
    count(*) FILTER (WHERE present) AS present,
    count(*) FILTER (WHERE present) / count(*) AS share
FROM cells
GROUP BY d, dataset, pos, field, country_code
ORDER BY d, pos, country_code NULLS LAST;
`, nil
}

// presentExpr is the SQL that says whether the value col of type typ is
// present and not empty, never NULL.
func presentExpr(col string, typ *dtype) string {
	switch typ.base() {
	case "VARCHAR":
		return "coalesce(trim(" + col + ") <> '', false)"
	case "LIST", "ARRAY":
		return "coalesce(len(" + col + ") > 0, false)"
	case "MAP":
		return "coalesce(cardinality(" + col + ") > 0, false)"
	case "BLOB":
		return "coalesce(octet_length(" + col + ") > 0, false)"
	}
	return "(" + col + " IS NOT NULL)"
}

// viewColumn is one column of a view, as DESCRIBE gives it.
type viewColumn struct {
	name string
	typ  *dtype
}

// columns describes the view name.
func (e *Engine) columns(ctx context.Context, name string) ([]viewColumn, error) {
	rows, err := e.db.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+quoteIdent(name)+")")
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", name, err)
	}
	defer rows.Close()
	var cols []viewColumn
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		cols = append(cols, viewColumn{name: n, typ: parseType(t)})
	}
	return cols, rows.Err()
}
