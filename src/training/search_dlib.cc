// dlib's global optimizer (MaxLIPO + trust region) behind the Suggester interface.
// Kept in its own file: dlib's headers are heavy.
#include <dlib/global_optimization.h>

#include <cmath>

#include "training/search.h"

namespace loupe::training {

namespace {

class DlibSuggester : public Suggester {
 public:
  DlibSuggester(const std::vector<SearchDimension>& space, uint64_t seed) : space_(space) {
    dlib::matrix<double, 0, 1> lo(static_cast<long>(space.size())), hi(static_cast<long>(space.size()));
    std::vector<bool> integer;
    for (size_t i = 0; i < space.size(); ++i) {
      // Log-scaled parameters are searched over their logarithm.
      lo(static_cast<long>(i)) = Log(i) ? std::log(space[i].lower) : space[i].lower;
      hi(static_cast<long>(i)) = Log(i) ? std::log(space[i].upper) : space[i].upper;
      integer.push_back(space[i].integer && !Log(i));
    }
    search_ = std::make_unique<dlib::global_function_search>(dlib::function_spec(lo, hi, integer));
    search_->set_seed(seed);
  }

  bool Next(std::vector<double>& x) override {
    pending_ = std::make_unique<dlib::function_evaluation_request>(search_->get_next_x());
    const auto& v = pending_->x();
    x.resize(space_.size());
    for (size_t i = 0; i < space_.size(); ++i) {
      double d = v(static_cast<long>(i));
      x[i] = Log(i) ? std::exp(d) : d;
    }
    return true;
  }

  void Tell(double score) override {
    if (pending_) pending_->set(score);
    pending_.reset();
  }

 private:
  bool Log(size_t i) const { return space_[i].log_scale && space_[i].lower > 0 && !space_[i].integer; }

  std::vector<SearchDimension> space_;
  std::unique_ptr<dlib::global_function_search> search_;
  std::unique_ptr<dlib::function_evaluation_request> pending_;
};

}  // namespace

std::unique_ptr<Suggester> MakeDlibSuggester(const std::vector<SearchDimension>& space, uint64_t seed) {
  return std::make_unique<DlibSuggester>(space, seed);
}

}  // namespace loupe::training
