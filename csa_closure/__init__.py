"""csa-closure: closes the CSA's legacy cases into the 2012-scheme CMS schema."""
