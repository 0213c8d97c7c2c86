// python_embed: a Python interpreter inside a program built with a sanitizer, so the sanitizer's
// runtime is in the executable (preloading it into the system's python3 crashes at start-up).
// bench/tsan.sh runs bench/tsan_threads.py with it over a TSan build of the extension.
//
//   python_embed SCRIPT.py [ARG...]   or   python_embed MODULE [ARG...]   (as python3 -m)
#include <pybind11/embed.h>

#include <cstdio>
#include <string>

namespace py = pybind11;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: python_embed SCRIPT.py|MODULE [ARG...]\n");
    return 2;
  }
  py::scoped_interpreter interpreter;
  py::list args;
  for (int i = 1; i < argc; ++i) args.append(argv[i]);
  py::module_::import("sys").attr("argv") = args;
  const std::string target = argv[1];
  try {
    py::module_ runpy = py::module_::import("runpy");
    if (target.size() > 3 && target.compare(target.size() - 3, 3, ".py") == 0) {
      runpy.attr("run_path")(target, py::none(), "__main__");
    } else {
      runpy.attr("run_module")(target, py::none(), "__main__", true);
    }
  } catch (py::error_already_set& e) {
    if (!e.matches(PyExc_SystemExit)) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    }
    const py::object code = e.value().attr("code");
    if (code.is_none()) return 0;
    if (py::isinstance<py::int_>(code)) return code.cast<int>();
    std::fprintf(stderr, "%s\n", py::str(code).cast<std::string>().c_str());
    return 1;
  }
  return 0;
}
