# expect: forbidden
# async function
async def f():
    return 1


answer = 1
# ruff: noqa
