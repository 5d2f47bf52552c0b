#pragma once

#include <string>
#include <vector>

namespace argus::store {

/// Keyset pagination: items with an id greater than `after_id`, in id (= creation) order.
/// `after_id` need not name an existing item (it is a plain lower bound). A limit outside
/// 1..1000 is InvalidArgument.
struct PageRequest {
  std::string after_id;  ///< empty for the first page
  int limit = 50;        ///< 1..1000
};

template <typename T>
struct Page {
  std::vector<T> items;
  /// Id of the last item when more items follow; empty on the last page.
  std::string next_after_id;
};

}  // namespace argus::store
