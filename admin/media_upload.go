package admin

import (
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// uploadFields are the parts of the upload form POST /api/media takes
// besides the file; the form's others (its CSRF token) stay here.
var uploadFields = map[string]bool{"folder": true, "alt": true, "caption": true, "tags": true}

// mediaUpload serves POST /admin/media/upload: the library's upload form
// (JavaScript off) and media.js's drag-and-drop (XMLHttpRequest, asking
// for JSON). The form is passed on to POST /api/media as it arrives: its
// parts are copied, the CSRF token left out, into a new multipart body
// that the API reads from a pipe, so a large file is never held here.
//
// A browser's request is let through the CSRF check by its
// Sec-Fetch-Site header without the form being parsed. A client that
// sends none has its token looked up in the form, which parses the whole
// body first (spilling a large file to a temporary file); then the parsed
// form is what is passed on.
func (a *Admin) mediaUpload(c echo.Context) error {
	wantsJSON := strings.Contains(c.Request().Header.Get(echo.HeaderAccept), echo.MIMEApplicationJSON)
	ctype, body, wait, err := relayUpload(c.Request())
	if err != nil {
		return a.uploadRefused(c, wantsJSON, &APIError{Status: http.StatusBadRequest, Code: "invalid_form", Message: "Send the upload form with a file."})
	}
	res, err := a.client(c, sessionOf(c).Token).do(http.MethodPost, "/api/media", ctype, body)
	// The API may stop reading early (a file over the plan's limit):
	// closing the pipe ends the copy, which must end before this handler
	// does, since it reads the request's body.
	body.CloseWithError(errUploadDone)
	wait()
	if err != nil {
		return a.uploadRefused(c, wantsJSON, err)
	}
	if wantsJSON {
		return c.JSONBlob(http.StatusCreated, res.Body)
	}
	var out struct {
		Data *mediaFile `json:"data"`
	}
	json.Unmarshal(res.Body, &out)
	msg := "Uploaded."
	if out.Data != nil {
		msg = "Uploaded " + out.Data.Name() + "."
	}
	return a.done(c, TenantPath+"/media", msg)
}

var errUploadDone = errors.New("upload answered")

// uploadRefused answers a refused upload: JSON for media.js, else the
// library again with the API's message.
func (a *Admin) uploadRefused(c echo.Context, wantsJSON bool, err error) error {
	e := apiError(err)
	if e == nil || e.Status >= 500 {
		return err
	}
	if wantsJSON {
		var body struct {
			Error struct {
				Code    string            `json:"code"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields,omitempty"`
			} `json:"error"`
		}
		body.Error.Code, body.Error.Message, body.Error.Fields = e.Code, e.Message, e.Fields
		return c.JSON(e.Status, body)
	}
	p, lerr := a.mediaListPage(c)
	if lerr != nil {
		return a.peopleFail(c, err)
	}
	p.Error = e
	return a.render(c, e.Status, "media/list", p)
}

// relayUpload starts copying the request's upload form into a new
// multipart body: its content type, the pipe to read it from, and a
// wait for the copy to end.
func relayUpload(r *http.Request) (string, *io.PipeReader, func(), error) {
	var mr *multipart.Reader
	if r.MultipartForm == nil {
		var err error
		if mr, err = r.MultipartReader(); err != nil {
			return "", nil, nil, err
		}
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan struct{})
	go func() { // owned by mediaUpload, which waits for it
		defer close(done)
		var err error
		if mr != nil {
			err = copyParts(mw, mr)
		} else {
			err = copyForm(mw, r.MultipartForm)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	return mw.FormDataContentType(), pr, func() { <-done }, nil
}

// copyParts copies the form's file and metadata parts, in their order
// (the API applies metadata sent before the file to the upload). A file
// input left empty sends a part without a file name: it is left out, so
// the API says the form has no file.
func copyParts(mw *multipart.Writer, mr *multipart.Reader) error {
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := p.FormName()
		var w io.Writer
		switch {
		case name == "file" && p.FileName() != "":
			w, err = mw.CreateFormFile("file", p.FileName())
		case uploadFields[name]:
			w, err = mw.CreateFormField(name)
		default:
			continue
		}
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, p); err != nil {
			return err
		}
	}
}

// copyForm copies a form the CSRF check parsed already.
func copyForm(mw *multipart.Writer, f *multipart.Form) error {
	for name, vs := range f.Value {
		if !uploadFields[name] {
			continue
		}
		for _, v := range vs {
			if err := mw.WriteField(name, v); err != nil {
				return err
			}
		}
	}
	for _, fh := range f.File["file"] {
		if fh.Filename == "" {
			continue
		}
		src, err := fh.Open()
		if err != nil {
			return err
		}
		w, err := mw.CreateFormFile("file", fh.Filename)
		if err == nil {
			_, err = io.Copy(w, src)
		}
		src.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
