// Owns the one compiled instance of Boost.JSON (header-only mode), for every library.
// Nothing here fails; other files include <boost/json.hpp> only.
#include <boost/json/src.hpp>
