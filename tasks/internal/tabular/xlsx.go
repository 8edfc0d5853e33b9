package tabular

import (
	"fmt"

	"github.com/xuri/excelize/v2"

	"github.com/novelfactory/runner/internal/regfile"
)

// openXLSX reads an Excel workbook's sheet (Munpia, KakaoPage exports).
func openXLSX(path string, opt Options) (Table, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	wb, err := excelize.OpenReader(f)
	if err != nil {
		return nil, fmt.Errorf("open workbook %s: %w", path, err)
	}
	defer wb.Close()
	sheet := opt.Sheet
	if sheet == "" {
		sheet = wb.GetSheetName(0)
	}
	if idx, err := wb.GetSheetIndex(sheet); err != nil || idx < 0 {
		return nil, fmt.Errorf("%s has no sheet %q (sheets: %v)", path, sheet, wb.GetSheetList())
	}
	rows, err := wb.GetRows(sheet)
	if err != nil {
		return nil, fmt.Errorf("read sheet %q of %s: %w", sheet, path, err)
	}
	return fromRows(path, "xlsx", rows, nil, opt)
}
