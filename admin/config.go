package admin

import "github.com/labstack/echo/v4"

// The helpers of the configuration pages (tokens, webhooks, plugins,
// settings, audit, account).

// cfgFail answers a page whose API read was refused with that refusal (a
// 403 for a user without the permission, a 404 for another tenant's id);
// anything else is the server's failure.
func (a *Admin) cfgFail(c echo.Context, err error) error {
	if e := apiError(err); e != nil && e.Status < 500 {
		return a.fail(c, e.Status, e.Message)
	}
	return err
}

// cfgOrigin is the origin the browser reached the admin on: what a
// libSQL client or a webhook test is told to use.
func cfgOrigin(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host
}

// cfgNoStore marks a page that shows a secret once: no cache, no
// history copy.
func cfgNoStore(c echo.Context) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
}
