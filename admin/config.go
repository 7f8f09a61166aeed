package admin

import "github.com/labstack/echo/v4"

// The helpers of the configuration pages (tokens, webhooks, plugins,
// settings, audit, account).

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
