# EVENTFEED_SANITIZE: "" (none), "address" (ASan + UBSan) or "thread" (TSan).
set(EVENTFEED_SANITIZE "" CACHE STRING "Sanitizer set: address or thread")
if(EVENTFEED_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(EVENTFEED_SANITIZE STREQUAL "thread")
  # -Wno-tsan: GCC 12 warns that TSan does not model atomic_thread_fence (inside Asio).
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
  add_link_options(-fsanitize=thread)
elseif(NOT EVENTFEED_SANITIZE STREQUAL "")
  message(FATAL_ERROR "EVENTFEED_SANITIZE must be empty, 'address' or 'thread'")
endif()
