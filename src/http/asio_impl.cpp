// http/asio_impl.cpp: the one translation unit that compiles Asio and Beast
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION are set on the
// eventfeed_asio target), so every other file includes only their declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
