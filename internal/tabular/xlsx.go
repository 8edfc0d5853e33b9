package tabular

import (
	"fmt"
	"io"
	"os"

	"github.com/xuri/excelize/v2"
)

// openXLSX reads an Excel workbook's sheet (Munpia, KakaoPage exports).
func openXLSX(f *os.File, path string, opt Options) (Table, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
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
