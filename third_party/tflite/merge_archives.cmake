# Runs `ar -M` on an MRI script (merging static archives into one): cmake -DAR= -DSCRIPT= -P
execute_process(COMMAND "${AR}" -M INPUT_FILE "${SCRIPT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${AR} -M failed (${rc}) on ${SCRIPT}")
endif()
